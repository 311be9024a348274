#include "optim_test_support.hpp"  // first: configures Eigen's allocation check

#include <cmath>
#include <memory>

using namespace eigenml;

namespace {
// Produced by tests/reference/optim_reference.py (torch.optim.lr_scheduler, PyTorch 1.13): the
// learning rate of epochs 0, 1, ... for an optimizer created with lr = 0.1, the scheduler stepped
// once after every epoch (with the metric of that epoch for the plateau schedules).
// torch.optim.lr_scheduler.StepLR step_size=3 gamma=0.5
constexpr double step_lr[10] = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125};
// torch.optim.lr_scheduler.ExponentialLR gamma=0.9
constexpr double exponential_lr[10] = {0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002, 0.06561000000000002, 0.05904900000000002, 0.05314410000000002, 0.04782969000000002, 0.043046721000000024, 0.03874204890000002};
// torch.optim.lr_scheduler.CosineAnnealingLR T_max=6 eta_min=0.01
constexpr double cosine_lr[15] = {0.1, 0.09397114317029975, 0.07750000000000001, 0.055000000000000014, 0.032500000000000015, 0.01602885682970026, 0.01, 0.01602885682970026, 0.03250000000000001, 0.05500000000000004, 0.07750000000000007, 0.09397114317029981, 0.10000000000000009, 0.09397114317029982, 0.0775000000000001};
// torch.optim.lr_scheduler.LinearLR start_factor=0.25 end_factor=1 total_iters=4
constexpr double linear_warmup[8] = {0.025, 0.043750000000000004, 0.06250000000000001, 0.08125000000000002, 0.10000000000000002, 0.10000000000000002, 0.10000000000000002, 0.10000000000000002};
// torch.optim.lr_scheduler.ChainedScheduler(LinearLR(0.25, total_iters=4), StepLR(3, 0.5))
constexpr double warmup_step_lr[10] = {0.025, 0.043750000000000004, 0.06250000000000001, 0.04062500000000001, 0.05000000000000001, 0.05000000000000001, 0.025000000000000005, 0.025000000000000005, 0.025000000000000005, 0.012500000000000002};
// torch.optim.lr_scheduler.ReduceLROnPlateau min factor=0.5 patience=2 threshold=0.05 cooldown=1 min_lr=0.02
constexpr double plateau_min[24] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02};
// torch.optim.lr_scheduler.ReduceLROnPlateau max abs factor=0.1 patience=1 threshold=0.01
constexpr double plateau_max_abs[14] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.010000000000000002, 0.010000000000000002, 0.010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.00010000000000000003, 0.00010000000000000003, 1.0000000000000004e-05};
constexpr double plateau_min_metrics[] = {1.0, 0.95, 0.92, 0.93, 0.91, 0.7, 0.69, 0.68, 0.68, 0.5, 0.49, 0.49, 0.49, 0.49, 0.49, 0.49, 0.49, 0.49, 0.49, 0.49, 0.49, 0.49, 0.49, 0.49};
constexpr double plateau_max_metrics[] = {0.1, 0.2, 0.25, 0.26, 0.255, 0.3, 0.3, 0.31, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};

template <class T>
double tol() {
  return std::is_same_v<T, float> ? 1e-6 : 1e-13;
}

/// Runs `sched` for as many epochs as `ref` lists and compares the optimizer's rate of each epoch.
template <class T, std::size_t N>
void check_schedule(optim::Optimizer<T>& opt, optim::LRScheduler<T>& sched, const double (&ref)[N],
                    const double* metrics = nullptr) {
  for (std::size_t e = 0; e < N; ++e) {
    INFO("epoch " << e << ": got " << std::setprecision(17) << double(opt.lr()) << ", torch " << ref[e]);
    CHECK(std::abs(double(opt.lr()) - ref[e]) <= tol<T>() * ref[e]);
    CHECK(sched.last_lr() == opt.lr());
    CHECK(sched.last_epoch() == int(e));
    if (metrics)
      sched.step(metrics[e]);
    else
      sched.step();
  }
}

}  // namespace

TEMPLATE_TEST_CASE("schedules follow torch.optim.lr_scheduler epoch by epoch", "[optim][lr_scheduler]", float,
                   double) {
  using T = TestType;
  optim::SGD<T> opt({.lr = 0.1});
  SECTION("StepLR") {
    optim::StepLR<T> sched(opt, {.step_size = 3, .gamma = 0.5});
    check_schedule(opt, sched, step_lr);
  }
  SECTION("ExponentialLR") {
    optim::ExponentialLR<T> sched(opt, {.gamma = 0.9});
    check_schedule(opt, sched, exponential_lr);
  }
  SECTION("CosineAnnealingLR, past T_max too") {
    optim::CosineAnnealingLR<T> sched(opt, {.T_max = 6, .eta_min = 0.01});
    check_schedule(opt, sched, cosine_lr);
  }
  SECTION("LinearWarmup standalone = LinearLR(start_factor, 1, total_iters)") {
    optim::LinearWarmup<T> sched(opt, {.warmup_epochs = 4, .start_factor = 0.25});
    check_schedule(opt, sched, linear_warmup);
  }
  SECTION("LinearWarmup wrapping StepLR = ChainedScheduler([LinearLR, StepLR])") {
    optim::LinearWarmup sched(opt, {.warmup_epochs = 4, .start_factor = 0.25},
                              optim::StepLR(opt, {.step_size = 3, .gamma = 0.5}));
    REQUIRE(sched.inner() != nullptr);
    check_schedule(opt, sched, warmup_step_lr);
  }
  SECTION("ReduceLROnPlateau, min mode, relative threshold, cooldown, min_lr") {
    optim::ReduceLROnPlateau<T> sched(
        opt, {.mode = optim::PlateauMode::min, .factor = 0.5, .patience = 2, .threshold = 0.05, .cooldown = 1,
              .min_lr = 0.02});
    CHECK(sched.uses_metric());
    check_schedule(opt, sched, plateau_min, plateau_min_metrics);
  }
  SECTION("ReduceLROnPlateau, max mode, absolute threshold") {
    optim::ReduceLROnPlateau<T> sched(opt, {.mode = optim::PlateauMode::max, .factor = 0.1, .patience = 1,
                                            .threshold = 0.01, .threshold_mode = optim::ThresholdMode::abs});
    check_schedule(opt, sched, plateau_max_abs, plateau_max_metrics);
  }
}

TEMPLATE_TEST_CASE("schedules from their closed forms", "[optim][lr_scheduler]", float, double) {
  using T = TestType;
  optim::Adam<T> opt({.lr = 0.2});
  SECTION("cosine: base at 0, the midpoint at T_max / 2, eta_min at T_max") {
    optim::CosineAnnealingLR<T> sched(opt, {.T_max = 10, .eta_min = 0.02});
    CHECK(sched.last_lr() == Approx(0.2));
    for (int e = 0; e < 5; ++e) sched.step();
    CHECK(sched.last_lr() == Approx(0.11));
    for (int e = 0; e < 5; ++e) sched.step();
    CHECK(sched.last_lr() == Approx(0.02));
  }
  SECTION("warm-up wrapping cosine multiplies the two rates") {
    optim::LinearWarmup<T> sched(opt, {.warmup_epochs = 2, .start_factor = 0.5},
                                 std::make_unique<optim::CosineAnnealingLR<T>>(opt, optim::CosineAnnealingLROptions{.T_max = 4}));
    CHECK(opt.lr() == Approx(0.1));  // 0.5 * 0.2
    sched.step();
    // factor 0.75, cosine 0.2 * (1 + cos(pi / 4)) / 2
    CHECK(opt.lr() == Approx(0.75 * 0.1 * (1 + std::sqrt(0.5))));
    sched.step();
    CHECK(opt.lr() == Approx(0.1));  // factor 1, cosine at T_max / 2
  }
  SECTION("warm-up wrapping a plateau passes the metric on") {
    optim::LinearWarmup<T> sched(opt, {.warmup_epochs = 2, .start_factor = 0.5},
                                 optim::ReduceLROnPlateau(opt, {.factor = 0.5, .patience = 0}));
    CHECK(sched.uses_metric());
    sched.step(1.0);
    CHECK(opt.lr() == Approx(0.75 * 0.2));
    sched.step(2.0);  // worse: the plateau halves its rate, and warm-up is over
    CHECK(opt.lr() == Approx(0.1));
    CHECK_THROWS_WITH(sched.step(), Catch::Contains("needs the monitored metric"));
    CHECK(sched.last_epoch() == 2);  // the failed step changed nothing
  }
  SECTION("the optimizer's rate is written on construction and every step") {
    optim::StepLR<T> sched(opt, {.step_size = 1, .gamma = 0.5});
    opt.set_lr(T(7));  // overwritten by the next step
    sched.step();
    CHECK(opt.lr() == Approx(0.1));
    CHECK(sched.base_lr() == Approx(0.2));
  }
}

TEST_CASE("schedules validate their options, naming the field", "[optim][lr_scheduler]") {
  using Catch::Contains;
  optim::SGD<double> opt({.lr = 0.1});
  CHECK_THROWS_WITH(optim::StepLR(opt, {}), Contains("step_size"));
  CHECK_THROWS_WITH(optim::StepLR(opt, {.step_size = 2, .gamma = -1}), Contains("gamma"));
  CHECK_THROWS_WITH(optim::ExponentialLR(opt, {}), Contains("gamma is required"));
  CHECK_THROWS_WITH(optim::CosineAnnealingLR(opt, {.T_max = 0}), Contains("T_max"));
  CHECK_THROWS_WITH(optim::CosineAnnealingLR(opt, {.T_max = 3, .eta_min = -1}), Contains("eta_min"));
  CHECK_THROWS_WITH(optim::LinearWarmup(opt, {.warmup_epochs = 0}), Contains("warmup_epochs"));
  CHECK_THROWS_WITH(optim::LinearWarmup(opt, {.warmup_epochs = 3, .start_factor = 0}), Contains("start_factor"));
  CHECK_THROWS_WITH(optim::LinearWarmup(opt, {.warmup_epochs = 3}, std::unique_ptr<optim::LRScheduler<double>>()),
                    Contains("null"));
  optim::SGD<double> other({.lr = 0.1});
  CHECK_THROWS_WITH(optim::LinearWarmup(opt, {.warmup_epochs = 3}, optim::StepLR(other, {.step_size = 2})),
                    Contains("different optimizer"));
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau(opt, {.factor = 1.0}), Contains("factor"));
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau(opt, {.patience = -1}), Contains("patience"));
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau(opt, {.threshold = -1}), Contains("threshold"));
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau(opt, {.cooldown = -1}), Contains("cooldown"));
  CHECK_THROWS_WITH(optim::ReduceLROnPlateau(opt, {.min_lr = -1}), Contains("min_lr"));
  optim::ReduceLROnPlateau plateau(opt);
  CHECK_THROWS_WITH(plateau.step(), Contains("needs the monitored metric"));
  CHECK(plateau.options().patience == 10);
  CHECK(plateau.best() == std::numeric_limits<double>::infinity());
}
