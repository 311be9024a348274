#pragma once
/// \file optim/lr_scheduler.hpp
/// Learning-rate schedules, stepped once per epoch, as PyTorch's `torch.optim.lr_scheduler`.
///
/// Protocol (the same as PyTorch's): constructing a schedule reads the optimizer's current
/// learning rate as `base_lr` and sets the rate of epoch 0; after every epoch the training loop
/// calls `step(metric)` (or `step()`), which sets the rate of the next epoch:
///
///     optim::SGD<float> opt({.lr = 0.1});
///     optim::StepLR sched(opt, {.step_size = 30, .gamma = 0.1});
///     for (int epoch = 0; epoch < 100; ++epoch) {
///       train_one_epoch(opt);          // uses opt.lr() == sched.last_lr()
///       sched.step(validation_loss);   // metric ignored by every schedule but ReduceLROnPlateau
///     }
///
/// Closed forms, with e the number of `step` calls so far (the epoch about to run):
///  - StepLR:            lr_e = base_lr * gamma^floor(e / step_size)
///  - ExponentialLR:     lr_e = base_lr * gamma^e
///  - CosineAnnealingLR: lr_e = eta_min + (base_lr - eta_min) * (1 + cos(pi * e / T_max)) / 2
///    (Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017,
///    without restarts; PyTorch's documented formula, which keeps following the cosine after T_max)
///  - LinearWarmup:      lr_e = f_e * inner_e,  f_e = start_factor + (1 - start_factor) * min(e, W) / W
///    where inner_e is the rate of a wrapped schedule (or base_lr standalone) and W = warmup_epochs.
///    Standalone it is PyTorch's `LinearLR(start_factor, end_factor=1, total_iters=W)`; wrapping a
///    multiplicative schedule (StepLR, ExponentialLR) it equals PyTorch's
///    `ChainedScheduler([LinearLR(...), inner])` (Goyal et al., "Accurate, Large Minibatch SGD:
///    Training ImageNet in 1 Hour", 2017, for gradual warm-up).
///  - ReduceLROnPlateau: PyTorch's rule, see its class comment.
///
/// Each schedule keeps its own rate (in double) and writes it into the optimizer; a rate set on
/// the optimizer by hand is overwritten at the next `step`.

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <string>
#include <type_traits>
#include <utility>

#include "eigenml/detail/check.hpp"
#include "eigenml/optim/optimizer.hpp"

namespace eigenml::optim {

template <class T>
class LinearWarmup;

/// The interface a training loop sees: `step(metric)` once at the end of every epoch.
template <class T>
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;

  /// End of an epoch: advance the schedule and set the optimizer's rate for the next epoch.
  /// `metric` (e.g. the validation loss) is used only by schedules whose `uses_metric()` is true
  /// (ReduceLROnPlateau), which throw std::invalid_argument if it is NaN; others ignore it.
  void step(double metric) {
    lr_ = advance(epoch_ + 1, metric);  // may throw: nothing changes then
    ++epoch_;
    optimizer_->set_lr(static_cast<T>(lr_));
  }
  /// `step(NaN)`: for schedules that do not use a metric.
  void step() { step(std::numeric_limits<double>::quiet_NaN()); }

  /// The rate the optimizer holds for the coming epoch.
  T last_lr() const { return static_cast<T>(lr_); }
  /// Number of `step` calls so far (the index of the coming epoch).
  int last_epoch() const { return epoch_; }
  /// The optimizer's rate when the schedule was constructed.
  double base_lr() const { return base_lr_; }
  /// True if `step` needs a metric (ReduceLROnPlateau).
  virtual bool uses_metric() const { return false; }
  Optimizer<T>& optimizer() const { return *optimizer_; }

 protected:
  // Copyable and movable by derived classes only (no slicing through the base).
  LRScheduler(const LRScheduler&) = default;
  LRScheduler(LRScheduler&&) noexcept = default;
  LRScheduler& operator=(const LRScheduler&) = default;
  LRScheduler& operator=(LRScheduler&&) noexcept = default;

  explicit LRScheduler(Optimizer<T>& optimizer)
      : optimizer_(&optimizer), base_lr_(static_cast<double>(optimizer.lr())), lr_(base_lr_) {}

  /// The rate of epoch `epoch` (called with 1, 2, ... in order, once each).
  virtual double advance(int epoch, double metric) = 0;

  /// The current rate in full (double) precision.
  double lr_now() const { return lr_; }

  /// Sets the rate of epoch 0; derived constructors call it once they are complete.
  void start(double lr0) {
    lr_ = lr0;
    optimizer_->set_lr(static_cast<T>(lr_));
  }

 private:
  friend class LinearWarmup<T>;  // reads the exact (double) rate of the schedule it wraps
  Optimizer<T>* optimizer_;
  double base_lr_;
  double lr_;
  int epoch_ = 0;
};

// ---------------------------------------------------------------------------------------------

struct StepLROptions {
  int step_size = 0;   ///< epochs between decays (required), >= 1
  double gamma = 0.1;  ///< multiplicative decay, >= 0
};

/// lr_e = base_lr * gamma^floor(e / step_size) (`torch.optim.lr_scheduler.StepLR`).
template <class T>
class StepLR final : public LRScheduler<T> {
 public:
  StepLR(Optimizer<T>& optimizer, const StepLROptions& options) : LRScheduler<T>(optimizer), options_(options) {
    detail::require(options.step_size >= 1, "StepLROptions", "step_size",
                    "must be >= 1 (it is required), got " + std::to_string(options.step_size));
    detail::require_finite_nonneg("StepLROptions", "gamma", options.gamma);
    this->start(this->base_lr());
  }
  const StepLROptions& options() const { return options_; }

 private:
  double advance(int epoch, double) override {
    return this->base_lr() * std::pow(options_.gamma, static_cast<double>(epoch / options_.step_size));
  }
  StepLROptions options_;
};

struct ExponentialLROptions {
  double gamma = std::numeric_limits<double>::quiet_NaN();  ///< decay per epoch (required), >= 0
};

/// lr_e = base_lr * gamma^e (`torch.optim.lr_scheduler.ExponentialLR`).
template <class T>
class ExponentialLR final : public LRScheduler<T> {
 public:
  ExponentialLR(Optimizer<T>& optimizer, const ExponentialLROptions& options)
      : LRScheduler<T>(optimizer), options_(options) {
    detail::require(!std::isnan(options.gamma), "ExponentialLROptions", "gamma", "is required (there is no default)");
    detail::require_finite_nonneg("ExponentialLROptions", "gamma", options.gamma);
    this->start(this->base_lr());
  }
  const ExponentialLROptions& options() const { return options_; }

 private:
  double advance(int epoch, double) override {
    return this->base_lr() * std::pow(options_.gamma, static_cast<double>(epoch));
  }
  ExponentialLROptions options_;
};

struct CosineAnnealingLROptions {
  int T_max = 0;         ///< epochs of the half cosine (required), >= 1
  double eta_min = 0;    ///< rate at epoch T_max, >= 0
};

/// lr_e = eta_min + (base_lr - eta_min) * (1 + cos(pi * e / T_max)) / 2
/// (`torch.optim.lr_scheduler.CosineAnnealingLR`, its documented closed form).
template <class T>
class CosineAnnealingLR final : public LRScheduler<T> {
 public:
  CosineAnnealingLR(Optimizer<T>& optimizer, const CosineAnnealingLROptions& options)
      : LRScheduler<T>(optimizer), options_(options) {
    detail::require(options.T_max >= 1, "CosineAnnealingLROptions", "T_max",
                    "must be >= 1 (it is required), got " + std::to_string(options.T_max));
    detail::require_finite_nonneg("CosineAnnealingLROptions", "eta_min", options.eta_min);
    this->start(this->base_lr());
  }
  const CosineAnnealingLROptions& options() const { return options_; }

 private:
  double advance(int epoch, double) override {
    const double phase = std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(options_.T_max);
    return options_.eta_min + (this->base_lr() - options_.eta_min) * (1.0 + std::cos(phase)) / 2.0;
  }
  CosineAnnealingLROptions options_;
};

struct LinearWarmupOptions {
  int warmup_epochs = 0;             ///< epochs to reach the full rate (required), >= 1
  double start_factor = 1.0 / 3.0;   ///< factor of epoch 0 (PyTorch LinearLR's default), in (0, 1]
};

/// Linear warm-up: the rate of epoch e is f_e times the rate of a wrapped schedule (or of
/// base_lr when standalone), f_e = start_factor + (1 - start_factor) * min(e, W) / W, so the
/// factor climbs linearly to 1 over W = warmup_epochs epochs and stays there.
/// The wrapped schedule is built on the same optimizer first and handed over (it is stepped by
/// the warm-up, with the same metric):
///
///     optim::LinearWarmup warm(opt, {.warmup_epochs = 5, .start_factor = 0.1},
///                              optim::CosineAnnealingLR(opt, {.T_max = 100}));
template <class T>
class LinearWarmup final : public LRScheduler<T> {
 public:
  /// Standalone: PyTorch's `LinearLR(start_factor, end_factor=1, total_iters=warmup_epochs)`.
  LinearWarmup(Optimizer<T>& optimizer, const LinearWarmupOptions& options)
      : LRScheduler<T>(optimizer), options_(options) {
    validate();
    this->start(this->base_lr() * factor(0));
  }

  /// Wrapping `inner`, which must act on the same optimizer.
  LinearWarmup(Optimizer<T>& optimizer, const LinearWarmupOptions& options, std::unique_ptr<LRScheduler<T>> inner)
      : LRScheduler<T>(optimizer), options_(options), inner_(std::move(inner)) {
    validate();
    if (!inner_) detail::fail("LinearWarmup", "the wrapped schedule is null");
    if (&inner_->optimizer() != &optimizer)
      detail::fail("LinearWarmup", "the wrapped schedule acts on a different optimizer");
    this->start(inner_->lr_ * factor(0));
  }

  /// Wrapping a schedule passed by value (moved into the warm-up).
  template <class Inner>
    requires std::is_base_of_v<LRScheduler<T>, std::remove_cvref_t<Inner>>
  LinearWarmup(Optimizer<T>& optimizer, const LinearWarmupOptions& options, Inner&& inner)
      : LinearWarmup(optimizer, options,
                     std::unique_ptr<LRScheduler<T>>(
                         std::make_unique<std::remove_cvref_t<Inner>>(std::forward<Inner>(inner)))) {}

  const LinearWarmupOptions& options() const { return options_; }
  bool uses_metric() const override { return inner_ && inner_->uses_metric(); }
  /// The wrapped schedule, or null when standalone.
  const LRScheduler<T>* inner() const { return inner_.get(); }

 private:
  void validate() const {
    detail::require(options_.warmup_epochs >= 1, "LinearWarmupOptions", "warmup_epochs",
                    "must be >= 1 (it is required), got " + std::to_string(options_.warmup_epochs));
    detail::require(options_.start_factor > 0 && options_.start_factor <= 1, "LinearWarmupOptions", "start_factor",
                    "must be in (0, 1], got " + std::to_string(options_.start_factor));
  }
  double factor(int epoch) const {
    const int e = epoch < options_.warmup_epochs ? epoch : options_.warmup_epochs;
    return options_.start_factor +
           (1.0 - options_.start_factor) * static_cast<double>(e) / static_cast<double>(options_.warmup_epochs);
  }
  double advance(int epoch, double metric) override {
    if (!inner_) return this->base_lr() * factor(epoch);
    inner_->step(metric);
    return inner_->lr_ * factor(epoch);
  }

  LinearWarmupOptions options_;
  std::unique_ptr<LRScheduler<T>> inner_;
};

// ---------------------------------------------------------------------------------------------

enum class PlateauMode { min, max };        ///< whether a smaller or a larger metric is better
enum class ThresholdMode { rel, abs };      ///< how `threshold` measures a significant improvement

struct ReduceLROnPlateauOptions {
  PlateauMode mode = PlateauMode::min;           ///< min: the metric should fall (a loss)
  double factor = 0.1;                           ///< new_lr = lr * factor, in [0, 1)
  int patience = 10;                             ///< bad epochs tolerated before reducing, >= 0
  double threshold = 1e-4;                       ///< size of a significant improvement, >= 0
  ThresholdMode threshold_mode = ThresholdMode::rel;
  int cooldown = 0;                              ///< epochs after a reduction that count no bad epoch, >= 0
  double min_lr = 0;                             ///< floor of the rate, >= 0
  double eps = 1e-8;                             ///< reductions smaller than this are skipped, >= 0
};

/// Reduces the rate by `factor` when the metric stopped improving for more than `patience`
/// epochs (`torch.optim.lr_scheduler.ReduceLROnPlateau`). On every `step(metric)`:
///
///     better = metric < best * (1 - threshold)  (min, rel)    metric < best - threshold  (min, abs)
///              metric > best * (1 + threshold)  (max, rel)    metric > best + threshold  (max, abs)
///     if better: best = metric, bad = 0   else: bad += 1
///     if cooling down: cooldown_left -= 1, bad = 0
///     if bad > patience: new = max(lr * factor, min_lr); if lr - new > eps: lr = new
///                        cooldown_left = cooldown, bad = 0
///
/// `best` starts at +inf (min) or -inf (max). The metric is required (NaN throws).
template <class T>
class ReduceLROnPlateau final : public LRScheduler<T> {
 public:
  ReduceLROnPlateau(Optimizer<T>& optimizer, const ReduceLROnPlateauOptions& options = {})
      : LRScheduler<T>(optimizer), options_(options) {
    constexpr const char* who = "ReduceLROnPlateauOptions";
    detail::require(options.factor >= 0 && options.factor < 1, who, "factor",
                    "must be in [0, 1), got " + std::to_string(options.factor));
    detail::require(options.patience >= 0, who, "patience", "must be >= 0, got " + std::to_string(options.patience));
    detail::require_finite_nonneg(who, "threshold", options.threshold);
    detail::require(options.cooldown >= 0, who, "cooldown", "must be >= 0, got " + std::to_string(options.cooldown));
    detail::require_finite_nonneg(who, "min_lr", options.min_lr);
    detail::require_finite_nonneg(who, "eps", options.eps);
    best_ = worst();
    this->start(this->base_lr());
  }
  const ReduceLROnPlateauOptions& options() const { return options_; }
  bool uses_metric() const override { return true; }

  /// Best metric seen so far (+-inf before the first step).
  double best() const { return best_; }
  /// Epochs without significant improvement counted so far.
  int num_bad_epochs() const { return bad_; }

 private:
  double worst() const {
    return options_.mode == PlateauMode::min ? std::numeric_limits<double>::infinity()
                                             : -std::numeric_limits<double>::infinity();
  }
  bool is_better(double a) const {
    const double t = options_.threshold;
    const bool rel = options_.threshold_mode == ThresholdMode::rel;
    if (options_.mode == PlateauMode::min) return rel ? a < best_ * (1.0 - t) : a < best_ - t;
    return rel ? a > best_ * (1.0 + t) : a > best_ + t;
  }
  double advance(int, double metric) override {
    if (std::isnan(metric))
      detail::fail("ReduceLROnPlateau::step", "needs the monitored metric, got NaN (call step(metric))");
    if (is_better(metric)) {
      best_ = metric;
      bad_ = 0;
    } else {
      ++bad_;
    }
    if (cooldown_left_ > 0) {
      --cooldown_left_;
      bad_ = 0;  // bad epochs during the cooldown do not count
    }
    double lr = this->lr_now();
    if (bad_ > options_.patience) {
      const double reduced = std::max(lr * options_.factor, options_.min_lr);
      if (lr - reduced > options_.eps) lr = reduced;
      cooldown_left_ = options_.cooldown;
      bad_ = 0;
    }
    return lr;
  }

  ReduceLROnPlateauOptions options_;
  double best_;
  int bad_ = 0;
  int cooldown_left_ = 0;
};

}  // namespace eigenml::optim
