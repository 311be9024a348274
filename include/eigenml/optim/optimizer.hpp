#pragma once
/// \file optim/optimizer.hpp
/// The interface every optimizer implements. An optimizer updates parameters from their `grad`,
/// nothing else: gradients may come from one batch, be averaged across workers (all-reduce) or
/// be clipped and noised per sample before `step` sees them.

#include <string>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"

namespace eigenml::optim {

template <class T>
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  /// One update of every parameter in `params` from its `grad`. Per-parameter state (moment
  /// estimates) is kept by position in `params`: pass the same parameters in the same order on
  /// every call (a different count or shape throws std::invalid_argument).
  virtual void step(const std::vector<Parameter<T>*>& params) = 0;

  /// Forget all state (moments, step counts), as if newly constructed.
  virtual void reset() = 0;

  /// The learning rate used by the next `step` (schedules change it between steps).
  T lr() const { return lr_; }
  void set_lr(T lr) {
    detail::require(lr >= T(0), "Optimizer::set_lr", "lr", "must be >= 0, got " + std::to_string(lr));
    lr_ = lr;
  }

 protected:
  explicit Optimizer(T lr) : lr_(lr) {}
  T lr_;
};

}  // namespace eigenml::optim
