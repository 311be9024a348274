#include "optim_test_support.hpp"  // first: configures Eigen's allocation check

#include <cmath>
#include <functional>
#include <limits>
#include <memory>

using namespace eigenml;
using eigenml::test::EigenAllocationCounter;
using eigenml::test::OptimProblem;

namespace {

/// Every optimizer, with every option that adds state switched on.
template <class T>
std::vector<std::pair<std::string, std::function<std::unique_ptr<optim::Optimizer<T>>()>>> all_optimizers() {
  using P = std::unique_ptr<optim::Optimizer<T>>;
  return {
      {"SGD", [] { return P(new optim::SGD<T>({.lr = 0.1})); }},
      {"SGD nesterov", [] { return P(new optim::SGD<T>({.lr = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 0.1})); }},
      {"SGD dampening", [] { return P(new optim::SGD<T>({.lr = 0.1, .momentum = 0.9, .dampening = 0.5})); }},
      {"Adam", [] { return P(new optim::Adam<T>({.lr = 0.1, .weight_decay = 0.1})); }},
      {"Adam amsgrad", [] { return P(new optim::Adam<T>({.lr = 0.1, .amsgrad = true})); }},
      {"AdamW amsgrad", [] { return P(new optim::AdamW<T>({.lr = 0.1, .amsgrad = true})); }},
      {"RMSprop", [] { return P(new optim::RMSprop<T>({.lr = 0.01, .weight_decay = 0.1})); }},
      {"RMSprop centered momentum",
       [] { return P(new optim::RMSprop<T>({.lr = 0.01, .momentum = 0.9, .centered = true})); }},
      {"RMSprop momentum", [] { return P(new optim::RMSprop<T>({.lr = 0.01, .momentum = 0.9})); }},
      {"Adagrad", [] { return P(new optim::Adagrad<T>({.lr = 0.1, .lr_decay = 0.1, .weight_decay = 0.1})); }},
  };
}

}  // namespace

TEMPLATE_TEST_CASE("a steady-state step allocates nothing", "[optim][alloc]", float, double) {
  using T = TestType;
  {  // the counter works: an Eigen matrix is seen
    EigenAllocationCounter eigen;
    Matrix<T> m(4, 4);
    CHECK(eigen.count() == 1);
  }
  for (const auto& [name, make] : all_optimizers<T>()) {
    INFO(name);
    auto opt = make();
    OptimProblem<T> prob;
    const auto params = prob.params();
    prob.compute_grads();
    opt->step(params);  // the first step allocates the state
    {
      EigenAllocationCounter eigen;
      for (int s = 0; s < 3; ++s) {
        prob.compute_grads();
        opt->step(params);
      }
      CHECK(eigen.count() == 0);
    }
    CHECK(prob.p0.value.allFinite());
  }
}

TEMPLATE_TEST_CASE("optimizers keep state per position and check the parameters", "[optim]", float, double) {
  using T = TestType;
  using Catch::Contains;
  for (const auto& [name, make] : all_optimizers<T>()) {
    INFO(name);
    auto opt = make();
    OptimProblem<T> prob;
    prob.compute_grads();
    opt->step(prob.params());

    // A different shape at a position: names the index and both shapes.
    Parameter<T> wrong(3, 2);
    CHECK_THROWS_WITH(opt->step({&prob.p0, &wrong}),
                      Contains("parameter 1 has shape 3x2 but the optimizer's state for it has shape 3x1"));
    // A different count.
    CHECK_THROWS_WITH(opt->step({&prob.p0}), Contains("got 1 parameters but the optimizer's state holds 2"));
    // A gradient whose shape differs from its value, and a null pointer.
    Parameter<T> bad(2, 3);
    bad.grad.resize(3, 2);
    CHECK_THROWS_WITH(opt->step({&bad, &prob.p1}), Contains("parameter 0 grad has shape 3x2 but its value has shape 2x3"));
    CHECK_THROWS_WITH(opt->step({&prob.p0, nullptr}), Contains("parameter 1 is a null pointer"));
    // A failed call changed nothing: the parameters still step.
    const Matrix<T> before = prob.p0.value;
    prob.compute_grads();
    CHECK_NOTHROW(opt->step(prob.params()));
    CHECK(prob.p0.value != before);

    // reset(): new shapes are accepted, and the next step equals a fresh optimizer's first step.
    opt->reset();
    Parameter<T> other(1, 4);
    other.value << 1, 2, 3, 4;
    other.grad << 0.5, -1, 2, 0.25;
    Parameter<T> other_fresh = other;
    CHECK_NOTHROW(opt->step({&other}));
    auto fresh = make();
    fresh->step({&other_fresh});
    CHECK(other.value == other_fresh.value);
  }
}

TEMPLATE_TEST_CASE("state persists across calls", "[optim]", float, double) {
  using T = TestType;
  // Two steps of one optimizer differ from two first steps of fresh optimizers whenever the
  // rule has state (everything but plain SGD), and equal them exactly for plain SGD.
  for (const auto& [name, make] : all_optimizers<T>()) {
    INFO(name);
    OptimProblem<T> kept, restarted;
    auto opt = make();
    for (int s = 0; s < 2; ++s) {
      kept.compute_grads();
      opt->step(kept.params());
      restarted.compute_grads();
      make()->step(restarted.params());
    }
    if (name == "SGD")
      CHECK(kept.p0.value == restarted.p0.value);
    else
      CHECK((kept.p0.value - restarted.p0.value).cwiseAbs().maxCoeff() > T(1e-4));
  }
}

TEST_CASE("set_lr rejects a negative or non-finite rate", "[optim]") {
  optim::Adam<double> opt;
  CHECK_THROWS_WITH(opt.set_lr(-1), Catch::Contains("lr must be >= 0"));
  CHECK_THROWS_WITH(opt.set_lr(std::numeric_limits<double>::infinity()), Catch::Contains("finite"));
  CHECK_THROWS_WITH(opt.set_lr(std::nan("")), Catch::Contains("lr must be"));
  opt.set_lr(0.5);
  CHECK(opt.lr() == 0.5);
  CHECK(opt.options().lr == 1e-3);  // options() keeps the constructor's values
}
