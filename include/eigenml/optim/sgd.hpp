#pragma once
/// \file optim/sgd.hpp
/// Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay, exactly as
/// PyTorch's `torch.optim.SGD`.
///
/// References: Robbins & Monro, "A Stochastic Approximation Method" (1951); momentum as in
/// Polyak (1964) in the form of Sutskever, Martens, Dahl & Hinton, "On the importance of
/// initialization and momentum in deep learning" (ICML 2013), which is PyTorch's form
/// (the learning rate multiplies the buffer, not the gradient inside it).
///
/// Update of a parameter `p` with gradient `g` at step t = 1, 2, ...:
///
///     d   = g + weight_decay * p
///     b_1 = d                                              (momentum != 0; the first buffer is d itself)
///     b_t = momentum * b_{t-1} + (1 - dampening) * d       (t > 1)
///     d   = d + momentum * b_t   if nesterov,   d = b_t otherwise   (momentum != 0)
///     p   = p - lr * d

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/optim/optimizer.hpp"

namespace eigenml::optim {

/// Options of `SGD`. `lr` is required: it defaults to NaN, which the constructor rejects.
struct SGDOptions {
  double lr = std::numeric_limits<double>::quiet_NaN();  ///< learning rate (required), >= 0
  double momentum = 0;                                    ///< momentum factor, >= 0
  bool nesterov = false;       ///< Nesterov momentum (needs momentum > 0 and dampening == 0)
  double weight_decay = 0;     ///< L2 penalty added to the gradient, >= 0
  double dampening = 0;        ///< scales the gradient entering the momentum buffer by (1 - dampening)
};

template <class T>
class SGD final : public Optimizer<T> {
 public:
  using Options = SGDOptions;

  /// Throws std::invalid_argument naming the bad field (lr missing or < 0, momentum < 0,
  /// weight_decay < 0, nesterov without momentum or with dampening).
  explicit SGD(const SGDOptions& options) : Optimizer<T>(static_cast<T>(validated(options).lr)), options_(options) {}

  const SGDOptions& options() const { return options_; }

  void step(const std::vector<Parameter<T>*>& params) override {
    const bool first = this->check_params("SGD::step", params);
    const T lr = this->lr_;
    const T wd = static_cast<T>(options_.weight_decay);
    const T mu = static_cast<T>(options_.momentum);
    const T keep = static_cast<T>(1.0 - options_.dampening);
    const bool use_momentum = options_.momentum != 0;
    if (first && use_momentum) buffers_.resize(params.size());

    for (std::size_t i = 0; i < params.size(); ++i) {
      auto p = params[i]->value.array();
      const auto g = params[i]->grad.array();
      // d = g + wd * p is recomputed inside each fused expression instead of stored, so no
      // temporary is allocated; `p` is read before it is written in every coefficient.
      if (!use_momentum) {
        p -= lr * (g + wd * p);
        continue;
      }
      auto& b = buffers_[i];
      if (first)
        b = (g + wd * p).matrix();  // PyTorch: the first buffer is the gradient itself, undamped
      else
        b.array() = mu * b.array() + keep * (g + wd * p);
      if (options_.nesterov)
        p -= lr * ((g + wd * p) + mu * b.array());
      else
        p -= lr * b.array();
    }
  }

  void reset() override {
    buffers_.clear();
    this->clear_params();
  }

  /// The momentum buffer of parameter `i` (empty before the first step or without momentum).
  const Matrix<T>& momentum_buffer(std::size_t i) const { return buffers_.at(i); }

 private:
  static const SGDOptions& validated(const SGDOptions& o) {
    constexpr const char* who = "SGDOptions";
    detail::require(!std::isnan(o.lr), who, "lr", "is required (there is no default), e.g. SGD<T>({.lr = 0.01})");
    detail::require_finite_nonneg(who, "lr", o.lr);
    detail::require_finite_nonneg(who, "momentum", o.momentum);
    detail::require_finite_nonneg(who, "weight_decay", o.weight_decay);
    detail::require(std::isfinite(o.dampening), who, "dampening", "must be finite, got " + std::to_string(o.dampening));
    if (o.nesterov) {
      detail::require(o.momentum > 0, who, "nesterov", "requires momentum > 0 (PyTorch's rule)");
      detail::require(o.dampening == 0, who, "nesterov", "requires dampening == 0 (PyTorch's rule)");
    }
    return o;
  }

  SGDOptions options_;
  std::vector<Matrix<T>> buffers_;  // momentum buffers, one per parameter position
};

}  // namespace eigenml::optim
