#pragma once
/// \file optim/optimizer.hpp
/// The interface every optimizer implements. An optimizer updates parameters from their `grad`,
/// nothing else: gradients may come from one batch, be averaged across workers (all-reduce) or
/// be clipped and noised per sample before `step` sees them.
///
/// Implementations (one header each) follow the update rules of PyTorch's `torch.optim`
/// (version 1.13, single-tensor code path) exactly, including where `eps` sits and how the
/// first step initialises each state buffer. Their option structs hold `double` fields, so the
/// same `{.lr = 1e-3}` works for `float` and `double` optimizers; the learning rate is copied
/// into the optimizer (`lr()`, `set_lr()`) so schedules can change it, while `options()` keeps
/// the values given at construction.

#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"

namespace eigenml::detail {

/// Validation of an option field of an optimizer or a schedule: `x` must be finite and >= 0
/// (NaN fails); otherwise throws std::invalid_argument naming `who` and `field`.
inline void require_finite_nonneg(std::string_view who, std::string_view field, double x) {
  require(x >= 0.0 && std::isfinite(x), who, field, "must be finite and >= 0, got " + std::to_string(x));
}

}  // namespace eigenml::detail

namespace eigenml::optim {

template <class T>
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  /// One update of every parameter in `params` from its `grad`. Per-parameter state (moment
  /// estimates) is kept by position in `params`: pass the same parameters in the same order on
  /// every call (a different count or shape throws std::invalid_argument).
  virtual void step(const std::vector<Parameter<T>*>& params) = 0;

  /// Forget all state (moments, step counts), as if newly constructed. The learning rate keeps
  /// its current value.
  virtual void reset() = 0;

  /// The learning rate used by the next `step` (schedules change it between steps).
  T lr() const { return lr_; }
  /// Sets the learning rate of the next steps; like the option, it must be finite and >= 0.
  void set_lr(T lr) {
    // The message is built only on failure: set_lr may be called every step by a schedule.
    if (!(lr >= T(0) && std::isfinite(lr)))
      detail::fail("Optimizer::set_lr", "lr must be >= 0 and finite, got " + std::to_string(lr));
    lr_ = lr;
  }

 protected:
  explicit Optimizer(T lr) : lr_(lr) {}
  T lr_;

  /// Checks `params` against the shapes seen on the first call since construction or `reset()`
  /// (and records them on that first call). Returns true on that first call, when the
  /// implementation allocates its state; later calls allocate nothing. Also checks that every
  /// pointer is non-null and that each `grad` has its `value`'s shape. `who` names the caller in
  /// messages ("SGD::step").
  bool check_params(std::string_view who, const std::vector<Parameter<T>*>& params) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (params[i] == nullptr) detail::fail(who, "parameter " + std::to_string(i) + " is a null pointer");
      // Compared by hand: the message (a heap string) is built only on failure.
      const auto& p = *params[i];
      if (p.grad.rows() != p.value.rows() || p.grad.cols() != p.value.cols())
        detail::fail(who, "parameter " + std::to_string(i) + " grad has shape " + detail::shape_of(p.grad) +
                              " but its value has shape " + detail::shape_of(p.value));
    }
    if (!seen_) {
      shapes_.clear();
      shapes_.reserve(params.size());
      for (const auto* p : params) shapes_.emplace_back(p->value.rows(), p->value.cols());
      seen_ = true;
      return true;
    }
    if (params.size() != shapes_.size())
      detail::fail(who, "got " + std::to_string(params.size()) + " parameters but the optimizer's state holds " +
                            std::to_string(shapes_.size()) +
                            " (pass the same parameters in the same order on every call, or reset())");
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& v = params[i]->value;
      if (v.rows() != shapes_[i].first || v.cols() != shapes_[i].second)
        detail::fail(who, "parameter " + std::to_string(i) + " has shape " + detail::shape_of(v) +
                              " but the optimizer's state for it has shape " +
                              detail::shape_str(shapes_[i].first, shapes_[i].second));
    }
    return false;
  }

  /// Forget the recorded shapes (for `reset()`).
  void clear_params() {
    shapes_.clear();
    seen_ = false;
  }

 private:
  std::vector<std::pair<Index, Index>> shapes_;
  bool seen_ = false;
};

}  // namespace eigenml::optim
