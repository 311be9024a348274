#pragma once
/// \file optim/adam.hpp
/// Adam and AdamW, exactly as PyTorch's `torch.optim.Adam` and `torch.optim.AdamW`.
///
/// References: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015);
/// Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019) for AdamW;
/// Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond" (ICLR 2018) for AMSGrad.
///
/// Update of a parameter `p` with gradient `g` at step t = 1, 2, ... (m_0 = v_0 = vmax_0 = 0):
///
///     Adam:  g = g + weight_decay * p            (L2 penalty coupled into the gradient)
///     AdamW: p = p * (1 - lr * weight_decay)     (decoupled decay, before the Adam update)
///     m_t = beta1 * m_{t-1} + (1 - beta1) * g
///     v_t = beta2 * v_{t-1} + (1 - beta2) * g^2
///     vmax_t = max(vmax_{t-1}, v_t), used instead of v_t below   (amsgrad only)
///     p = p - lr / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)
///
/// Note that `eps` is added after the bias correction of sqrt(v) (PyTorch's placement, not the
/// paper's "eps-hat" variant).

#include <cmath>
#include <string>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/optim/optimizer.hpp"

namespace eigenml::optim {

/// Options of `Adam` (`weight_decay` is an L2 penalty added to the gradient).
struct AdamOptions {
  double lr = 1e-3;            ///< learning rate, >= 0
  double beta1 = 0.9;          ///< decay of the first-moment average, in [0, 1)
  double beta2 = 0.999;        ///< decay of the second-moment average, in [0, 1)
  double eps = 1e-8;           ///< added to the bias-corrected sqrt(v), >= 0
  double weight_decay = 0;     ///< L2 penalty coefficient, >= 0
  bool amsgrad = false;        ///< use the running maximum of v (AMSGrad)
};

/// Options of `AdamW` (`weight_decay` is decoupled: p *= 1 - lr * weight_decay).
struct AdamWOptions {
  double lr = 1e-3;            ///< learning rate, >= 0
  double beta1 = 0.9;          ///< decay of the first-moment average, in [0, 1)
  double beta2 = 0.999;        ///< decay of the second-moment average, in [0, 1)
  double eps = 1e-8;           ///< added to the bias-corrected sqrt(v), >= 0
  double weight_decay = 1e-2;  ///< decoupled decay coefficient, >= 0
  bool amsgrad = false;        ///< use the running maximum of v (AMSGrad)
};

}  // namespace eigenml::optim

namespace eigenml::detail {

/// The state and update shared by Adam and AdamW; `Decoupled` selects AdamW's weight decay.
template <class T, class Options, bool Decoupled>
class AdamImpl : public optim::Optimizer<T> {
 public:
  /// Throws std::invalid_argument naming the bad field (lr, eps or weight_decay < 0, a beta
  /// outside [0, 1)).
  explicit AdamImpl(const Options& options)
      : optim::Optimizer<T>(static_cast<T>(validated(options).lr)), options_(options) {}

  const Options& options() const { return options_; }

  void step(const std::vector<Parameter<T>*>& params) override {
    const bool first = this->check_params(Decoupled ? "AdamW::step" : "Adam::step", params);
    if (first) {
      m_.resize(params.size());
      v_.resize(params.size());
      if (options_.amsgrad) vmax_.resize(params.size());
      for (std::size_t i = 0; i < params.size(); ++i) {
        const auto& p = params[i]->value;
        m_[i].setZero(p.rows(), p.cols());
        v_[i].setZero(p.rows(), p.cols());
        if (options_.amsgrad) vmax_[i].setZero(p.rows(), p.cols());
      }
    }
    ++t_;
    // Scalars in double as PyTorch computes them (Python floats), cast once.
    const double lr = static_cast<double>(this->lr_);
    const double bias1 = 1.0 - std::pow(options_.beta1, static_cast<double>(t_));
    const double bias2 = 1.0 - std::pow(options_.beta2, static_cast<double>(t_));
    const T step_size = static_cast<T>(lr / bias1);
    const T bias2_sqrt = static_cast<T>(std::sqrt(bias2));
    const T b1 = static_cast<T>(options_.beta1), c1 = static_cast<T>(1.0 - options_.beta1);
    const T b2 = static_cast<T>(options_.beta2), c2 = static_cast<T>(1.0 - options_.beta2);
    const T eps = static_cast<T>(options_.eps);
    const T l2 = static_cast<T>(Decoupled ? 0.0 : options_.weight_decay);
    const T shrink = static_cast<T>(1.0 - lr * options_.weight_decay);

    for (std::size_t i = 0; i < params.size(); ++i) {
      auto p = params[i]->value.array();
      const auto g = params[i]->grad.array();
      auto m = m_[i].array();
      auto v = v_[i].array();
      if constexpr (Decoupled) {
        p *= shrink;
        m = b1 * m + c1 * g;
        v = b2 * v + c2 * g.square();
      } else {
        // g + l2 * p recomputed in each fused expression: no temporary, nothing allocated.
        m = b1 * m + c1 * (g + l2 * p);
        v = b2 * v + c2 * (g + l2 * p).square();
      }
      if (options_.amsgrad) {
        auto vmax = vmax_[i].array();
        vmax = vmax.max(v);
        p -= step_size * (m / (vmax.sqrt() / bias2_sqrt + eps));
      } else {
        p -= step_size * (m / (v.sqrt() / bias2_sqrt + eps));
      }
    }
  }

  void reset() override {
    m_.clear();
    v_.clear();
    vmax_.clear();
    t_ = 0;
    this->clear_params();
  }

  /// Steps taken since construction or `reset()`.
  long long steps() const { return t_; }
  /// First and second moment estimates of parameter `i` (after the first step).
  const Matrix<T>& first_moment(std::size_t i) const { return m_.at(i); }
  const Matrix<T>& second_moment(std::size_t i) const { return v_.at(i); }

 private:
  static const Options& validated(const Options& o) {
    const char* who = Decoupled ? "AdamWOptions" : "AdamOptions";
    require_finite_nonneg(who, "lr", o.lr);
    require(o.beta1 >= 0 && o.beta1 < 1, who, "beta1", "must be in [0, 1), got " + std::to_string(o.beta1));
    require(o.beta2 >= 0 && o.beta2 < 1, who, "beta2", "must be in [0, 1), got " + std::to_string(o.beta2));
    require_finite_nonneg(who, "eps", o.eps);
    require_finite_nonneg(who, "weight_decay", o.weight_decay);
    return o;
  }

  Options options_;
  std::vector<Matrix<T>> m_, v_, vmax_;  // moments per parameter position
  long long t_ = 0;
};

}  // namespace eigenml::detail

namespace eigenml::optim {

/// Adam: L2 weight decay added to the gradient (`torch.optim.Adam`).
template <class T>
class Adam final : public detail::AdamImpl<T, AdamOptions, false> {
 public:
  using Options = AdamOptions;
  explicit Adam(const AdamOptions& options = {}) : detail::AdamImpl<T, AdamOptions, false>(options) {}
};

/// AdamW: decoupled weight decay, p *= 1 - lr * weight_decay before the Adam update
/// (`torch.optim.AdamW`).
template <class T>
class AdamW final : public detail::AdamImpl<T, AdamWOptions, true> {
 public:
  using Options = AdamWOptions;
  explicit AdamW(const AdamWOptions& options = {}) : detail::AdamImpl<T, AdamWOptions, true>(options) {}
};

}  // namespace eigenml::optim
