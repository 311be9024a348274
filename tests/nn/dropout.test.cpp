#include <catch2/catch.hpp>

#include <eigenml/nn/dropout.hpp>
#include <eigenml/random.hpp>

#include "support/gradcheck.hpp"

#include <cmath>
#include <limits>

using namespace eigenml;

namespace {
/// Replays the same mask on every forward (reseeds before drawing), so finite differences see a
/// fixed function of X while the layer is in training mode.
struct FixedMaskDropout {
  nn::Dropout<double>& d;
  std::uint64_t seed;
  const Matrix<double>& forward(const Matrix<double>& X) {
    d.reseed(seed);
    return d.forward(X);
  }
  const Matrix<double>& backward(const Matrix<double>& dY) { return d.backward(dY); }
  std::vector<Parameter<double>*> parameters() { return d.parameters(); }
};
}  // namespace

TEMPLATE_TEST_CASE("Dropout: training zeroes about p of the values and scales the rest by 1/(1-p)",
                   "[nn][dropout]", float, double) {
  using T = TestType;
  nn::Dropout<T> d(0.3, 42);
  CHECK(d.name() == "Dropout");
  CHECK(d.p() == 0.3);
  CHECK(d.parameters().empty());
  CHECK(d.training());
  const Matrix<T> X = Matrix<T>::Constant(200, 100, T(2));
  const Matrix<T> Y = d.forward(X);
  const T kept = static_cast<T>(2.0 / 0.7);
  const Index zeros = (Y.array() == T(0)).count();
  CHECK(zeros + (Y.array() == kept).count() == Y.size());  // every value is 0 or 2/(1-p)
  const double frac = static_cast<double>(zeros) / 20000.0;
  CHECK(frac == Approx(0.3).margin(0.015));  // ~4.6 standard deviations
  CHECK(Y.mean() == Approx(2.0).epsilon(0.03));  // inverted dropout keeps the expectation

  // Backward uses the mask of the last forward.
  const Matrix<T> dY = Matrix<T>::Ones(200, 100);
  const Matrix<T> dX = d.backward(dY);
  CHECK(dX == d.mask());
  CHECK(((dX.array() == T(0)) == (Y.array() == T(0))).all());

  // A fresh mask every forward; the same seed gives the same masks.
  const Matrix<T> Y2 = d.forward(X);
  CHECK(Y2 != Y);
  nn::Dropout<T> e(0.3, 42);
  CHECK(e.forward(X) == Y);
  d.reseed(42);
  CHECK(d.forward(X) == Y);
}

TEMPLATE_TEST_CASE("Dropout: identity in evaluation mode and for p = 0", "[nn][dropout]", float, double) {
  using T = TestType;
  Rng rng(3);
  const Matrix<T> X = random_uniform<T>(5, 7, rng);
  nn::Dropout<T> d(0.9);
  d.set_training(false);
  CHECK(d.forward(X) == X);
  CHECK(d.backward(X) == X);
  nn::Dropout<T> zero(0.0);
  CHECK(zero.forward(X) == X);
  CHECK(zero.backward(X) == X);
}

TEMPLATE_TEST_CASE("Dropout: p must lie in 0 <= p < 1", "[nn][dropout]", float, double) {
  using T = TestType;
  CHECK_THROWS_WITH(nn::Dropout<T>(1.0), Catch::Contains("p must be in [0, 1)"));
  CHECK_THROWS_AS(nn::Dropout<T>(-0.1), std::invalid_argument);
  CHECK_THROWS_AS(nn::Dropout<T>(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  nn::Dropout<T> d(0.5);
  d.forward(Matrix<T>::Ones(3, 3));
  CHECK_THROWS_WITH(d.backward(Matrix<T>::Ones(2, 3)), Catch::Contains("2x3") && Catch::Contains("3x3"));
}

TEST_CASE("Dropout: gradient checks in evaluation mode and with a fixed training mask", "[nn][dropout][gradcheck]") {
  Rng rng(5);
  nn::Dropout<double> eval(0.4, 1);
  eval.set_training(false);
  CHECK(test::check_layer(eval, random_uniform<double>(4, 6, rng)).worst() < 1e-8);

  nn::Dropout<double> train(0.4, 1);
  FixedMaskDropout fixed{train, 77};
  const Matrix<double> X = random_uniform<double>(4, 6, rng);
  CHECK(test::check_layer(fixed, X).worst() < 1e-8);
  // The mask really dropped something (the check is not of the identity).
  CHECK((train.mask().array() == 0.0).any());
  CHECK((train.mask().array() != 0.0).any());
}

TEST_CASE("Dropout: clone keeps p and the random stream", "[nn][dropout]") {
  nn::Dropout<float> d(0.5, 9);
  auto c = d.clone();
  const Matrix<float> X = Matrix<float>::Ones(4, 4);
  const Matrix<float> a = d.forward(X);
  CHECK(c->forward(X) == a);
}
