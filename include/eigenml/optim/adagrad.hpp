#pragma once
/// \file optim/adagrad.hpp
/// Adagrad, exactly as PyTorch's `torch.optim.Adagrad` (dense gradients).
///
/// Reference: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
/// Stochastic Optimization", JMLR 12 (2011).
///
/// Update of a parameter `p` with gradient `g` at step t = 1, 2, ...
/// (s_0 = initial_accumulator_value everywhere):
///
///     g    = g + weight_decay * p
///     lr_t = lr / (1 + (t - 1) * lr_decay)
///     s_t  = s_{t-1} + g^2
///     p    = p - lr_t * g / (sqrt(s_t) + eps)
///
/// `eps` is added outside the square root (PyTorch's placement).

#include <cmath>
#include <string>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/optim/optimizer.hpp"

namespace eigenml::optim {

/// Options of `Adagrad` (PyTorch's defaults; `lr, eps` first as API.md lists them).
struct AdagradOptions {
  double lr = 1e-2;                       ///< learning rate, >= 0
  double eps = 1e-10;                     ///< added to the root of the accumulator, >= 0
  double lr_decay = 0;                    ///< lr_t = lr / (1 + (t - 1) * lr_decay), >= 0
  double weight_decay = 0;                ///< L2 penalty added to the gradient, >= 0
  double initial_accumulator_value = 0;   ///< starting value of the squared-gradient sum, >= 0
};

template <class T>
class Adagrad final : public Optimizer<T> {
 public:
  using Options = AdagradOptions;

  /// Throws std::invalid_argument naming the bad field.
  explicit Adagrad(const AdagradOptions& options = {})
      : Optimizer<T>(static_cast<T>(validated(options).lr)), options_(options) {}

  const AdagradOptions& options() const { return options_; }

  void step(const std::vector<Parameter<T>*>& params) override {
    if (this->check_params("Adagrad::step", params)) {
      sum_.resize(params.size());
      for (std::size_t i = 0; i < params.size(); ++i)
        sum_[i].setConstant(params[i]->value.rows(), params[i]->value.cols(),
                            static_cast<T>(options_.initial_accumulator_value));
    }
    ++t_;
    const T clr = static_cast<T>(static_cast<double>(this->lr_) /
                                 (1.0 + static_cast<double>(t_ - 1) * options_.lr_decay));
    const T eps = static_cast<T>(options_.eps);
    const T wd = static_cast<T>(options_.weight_decay);
    for (std::size_t i = 0; i < params.size(); ++i) {
      auto p = params[i]->value.array();
      const auto g = params[i]->grad.array();
      auto s = sum_[i].array();
      // (g + wd * p) is recomputed inside each fused expression: no temporary is allocated.
      s += (g + wd * p).square();
      p -= clr * ((g + wd * p) / (s.sqrt() + eps));
    }
  }

  void reset() override {
    sum_.clear();
    t_ = 0;
    this->clear_params();
  }

  /// Steps taken since construction or `reset()`.
  long long steps() const { return t_; }
  /// The squared-gradient sum of parameter `i` (after the first step).
  const Matrix<T>& accumulator(std::size_t i) const { return sum_.at(i); }

 private:
  static const AdagradOptions& validated(const AdagradOptions& o) {
    constexpr const char* who = "AdagradOptions";
    detail::require_finite_nonneg(who, "lr", o.lr);
    detail::require_finite_nonneg(who, "eps", o.eps);
    detail::require_finite_nonneg(who, "lr_decay", o.lr_decay);
    detail::require_finite_nonneg(who, "weight_decay", o.weight_decay);
    detail::require_finite_nonneg(who, "initial_accumulator_value", o.initial_accumulator_value);
    return o;
  }

  AdagradOptions options_;
  std::vector<Matrix<T>> sum_;  // squared-gradient sums per parameter position
  long long t_ = 0;
};

}  // namespace eigenml::optim
