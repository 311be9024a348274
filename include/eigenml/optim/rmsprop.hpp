#pragma once
/// \file optim/rmsprop.hpp
/// RMSprop, exactly as PyTorch's `torch.optim.RMSprop` (optionally centered, with momentum and
/// L2 weight decay).
///
/// References: Tieleman & Hinton, "Lecture 6.5 - RMSProp", COURSERA: Neural Networks for Machine
/// Learning (2012); the centered variant from Graves, "Generating Sequences With Recurrent
/// Neural Networks" (2013), eq. 38-45.
///
/// Update of a parameter `p` with gradient `g` at step t = 1, 2, ... (s_0 = a_0 = b_0 = 0):
///
///     g   = g + weight_decay * p
///     s_t = alpha * s_{t-1} + (1 - alpha) * g^2
///     a_t = alpha * a_{t-1} + (1 - alpha) * g                 (centered only)
///     d   = sqrt(s_t - a_t^2) + eps  if centered,  sqrt(s_t) + eps otherwise
///     b_t = momentum * b_{t-1} + g / d,  p = p - lr * b_t     (momentum > 0)
///     p   = p - lr * g / d                                    (momentum == 0)
///
/// `eps` is added outside the square root (PyTorch's placement).
///
/// One deliberate difference: the centered variance s_t - a_t^2 is clamped at 0 before the root.
/// It is >= 0 in exact arithmetic (Cauchy-Schwarz on the EMA weights), but with a steady gradient
/// s_t and a_t^2 converge to the same number and rounding can leave the difference negative:
/// PyTorch then produces NaN (in float after ~1200 steps of a constant gradient with alpha =
/// 0.99); here the step stays finite. Where the difference is >= 0 the result is PyTorch's.

#include <cmath>
#include <string>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/optim/optimizer.hpp"

namespace eigenml::optim {

/// Options of `RMSprop` (PyTorch's order and defaults).
struct RMSpropOptions {
  double lr = 1e-2;          ///< learning rate, >= 0
  double alpha = 0.99;       ///< decay of the squared-gradient average, in [0, 1]
  double eps = 1e-8;         ///< added to the root of the average, >= 0
  double weight_decay = 0;   ///< L2 penalty added to the gradient, >= 0
  double momentum = 0;       ///< momentum factor on the normalised gradient, >= 0
  bool centered = false;     ///< normalise by the estimated variance instead of the raw second moment
};

template <class T>
class RMSprop final : public Optimizer<T> {
 public:
  using Options = RMSpropOptions;

  /// Throws std::invalid_argument naming the bad field.
  explicit RMSprop(const RMSpropOptions& options = {})
      : Optimizer<T>(static_cast<T>(validated(options).lr)), options_(options) {}

  const RMSpropOptions& options() const { return options_; }

  void step(const std::vector<Parameter<T>*>& params) override {
    const bool first = this->check_params("RMSprop::step", params);
    const bool use_momentum = options_.momentum > 0;
    if (first) {
      square_avg_.resize(params.size());
      if (options_.centered) grad_avg_.resize(params.size());
      if (use_momentum) buffers_.resize(params.size());
      for (std::size_t i = 0; i < params.size(); ++i) {
        const auto& p = params[i]->value;
        square_avg_[i].setZero(p.rows(), p.cols());
        if (options_.centered) grad_avg_[i].setZero(p.rows(), p.cols());
        if (use_momentum) buffers_[i].setZero(p.rows(), p.cols());
      }
    }
    const T lr = this->lr_;
    const T alpha = static_cast<T>(options_.alpha), c = static_cast<T>(1.0 - options_.alpha);
    const T eps = static_cast<T>(options_.eps);
    const T wd = static_cast<T>(options_.weight_decay);
    const T mu = static_cast<T>(options_.momentum);

    for (std::size_t i = 0; i < params.size(); ++i) {
      auto p = params[i]->value.array();
      const auto g = params[i]->grad.array();
      auto s = square_avg_[i].array();
      // (g + wd * p) is recomputed inside each fused expression: no temporary is allocated.
      s = alpha * s + c * (g + wd * p).square();
      if (options_.centered) {
        auto a = grad_avg_[i].array();
        a = alpha * a + c * (g + wd * p);
        // max(., 0): rounding can make s - a^2 slightly negative (see the file comment).
        if (use_momentum) {
          auto b = buffers_[i].array();
          b = mu * b + (g + wd * p) / ((s - a.square()).max(T(0)).sqrt() + eps);
          p -= lr * b;
        } else {
          p -= lr * ((g + wd * p) / ((s - a.square()).max(T(0)).sqrt() + eps));
        }
      } else if (use_momentum) {
        auto b = buffers_[i].array();
        b = mu * b + (g + wd * p) / (s.sqrt() + eps);
        p -= lr * b;
      } else {
        p -= lr * ((g + wd * p) / (s.sqrt() + eps));
      }
    }
  }

  void reset() override {
    square_avg_.clear();
    grad_avg_.clear();
    buffers_.clear();
    this->clear_params();
  }

  /// The running average of squared gradients of parameter `i` (after the first step).
  const Matrix<T>& square_avg(std::size_t i) const { return square_avg_.at(i); }

 private:
  static const RMSpropOptions& validated(const RMSpropOptions& o) {
    constexpr const char* who = "RMSpropOptions";
    detail::require_finite_nonneg(who, "lr", o.lr);
    detail::require(o.alpha >= 0 && o.alpha <= 1, who, "alpha", "must be in [0, 1], got " + std::to_string(o.alpha));
    detail::require_finite_nonneg(who, "eps", o.eps);
    detail::require_finite_nonneg(who, "weight_decay", o.weight_decay);
    detail::require_finite_nonneg(who, "momentum", o.momentum);
    return o;
  }

  RMSpropOptions options_;
  std::vector<Matrix<T>> square_avg_, grad_avg_, buffers_;  // state per parameter position
};

}  // namespace eigenml::optim
