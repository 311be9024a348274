#include <catch2/catch.hpp>

#include <eigenml/nn/dense.hpp>
#include <eigenml/nn/flatten.hpp>
#include <eigenml/random.hpp>

#include "support/gradcheck.hpp"

#include <cmath>
#include <string>

using namespace eigenml;

namespace {
template <class T>
double tol() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-12;
}
}  // namespace

TEMPLATE_TEST_CASE("Dense: forward is X W^T + b with PyTorch's parameter shapes", "[nn][dense]", float, double) {
  using T = TestType;
  nn::Dense<T> d(3, 2);
  auto params = d.parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0]->value.rows() == 2);  // W: out x in
  CHECK(params[0]->value.cols() == 3);
  CHECK(params[1]->value.rows() == 2);  // b: out x 1
  CHECK(params[1]->value.cols() == 1);
  CHECK(d.in_features() == 3);
  CHECK(d.out_features() == 2);
  CHECK(d.name() == "Dense");
  CHECK(d.input_size() == 3);
  CHECK(d.output_size(3) == 2);

  params[0]->value << 1, 2, 3, -1, 0, 2;
  params[1]->value << 0.5, -1;
  Matrix<T> X(2, 3);
  X << 1, 0, -1, 2, 1, 1;
  const Matrix<T>& Y = d.forward(X);
  Matrix<T> expected(2, 2);
  // row 0: [1*1+2*0+3*(-1) + 0.5, -1*1+0+2*(-1) - 1] = [-1.5, -4]
  // row 1: [2+2+3 + 0.5, -2+0+2 - 1] = [7.5, -1]
  expected << -1.5, -4, 7.5, -1;
  CHECK((Y - expected).norm() <= tol<T>());

  // Backward by hand: dY = ones -> dW = column sums of X broadcast, db = N, dX = row sums of W.
  Matrix<T> dY = Matrix<T>::Ones(2, 2);
  const Matrix<T>& dX = d.backward(dY);
  Matrix<T> dW(2, 3);
  dW << 3, 1, 0, 3, 1, 0;
  CHECK((params[0]->grad - dW).norm() <= tol<T>());
  CHECK(params[1]->grad(0, 0) == T(2));
  CHECK(params[1]->grad(1, 0) == T(2));
  Matrix<T> dX_expected(2, 3);
  dX_expected << 0, 2, 5, 0, 2, 5;
  CHECK((dX - dX_expected).norm() <= tol<T>());
}

TEMPLATE_TEST_CASE("Dense: gradients match finite differences", "[nn][dense][gradcheck]", float, double) {
  using T = TestType;
  // The check runs in double; the float instantiation checks the float layer against double
  // differences through a float->double round trip, with a float tolerance.
  Rng rng(7);
  if constexpr (std::is_same_v<T, double>) {
    nn::Dense<double> d(5, 4, 3);
    rng.fill_uniform(d.bias().value, -1, 1);
    const auto report = test::check_layer(d, random_uniform<double>(6, 5, rng));
    CHECK(report.input < 1e-7);
    REQUIRE(report.params.size() == 2);
    CHECK(report.params[0] < 1e-7);
    CHECK(report.params[1] < 1e-7);
  } else {
    nn::Dense<float> d(5, 4, 3);
    const Matrix<float> X = random_uniform<float>(6, 5, rng);
    const Matrix<float> R = random_uniform<float>(6, 4, rng);
    d.forward(X);
    const Matrix<float> dX = d.backward(R);
    // Finite differences of s = sum(R ⊙ (X W^T + b)) in float with a large step.
    const float h = 1e-2f;
    auto s = [&](const Matrix<float>& x) { return (d.forward(x).array() * R.array()).sum(); };
    Matrix<float> num(6, 5);
    for (Index i = 0; i < 6; ++i)
      for (Index j = 0; j < 5; ++j) {
        Matrix<float> xp = X, xm = X;
        xp(i, j) += h;
        xm(i, j) -= h;
        num(i, j) = (s(xp) - s(xm)) / (2 * h);
      }
    CHECK(test::rel_error(dX, num) < 1e-3);
  }
}

TEMPLATE_TEST_CASE("Dense: initialisation is seeded and follows Glorot / He bounds", "[nn][dense]", float, double) {
  using T = TestType;
  nn::Dense<T> a(64, 32, 11), b(64, 32, 11), c(64, 32, 12);
  CHECK(a.weight().value == b.weight().value);  // bit-identical
  CHECK(a.weight().value != c.weight().value);
  CHECK(a.bias().value.isZero());
  const double glorot = std::sqrt(6.0 / (64 + 32));
  CHECK(a.weight().value.cwiseAbs().maxCoeff() <= T(glorot));
  CHECK(a.weight().value.cwiseAbs().maxCoeff() > T(0.9 * glorot));
  nn::Dense<T> he(64, 32, 11, nn::Init::he_uniform);
  const double he_bound = std::sqrt(6.0 / 64);
  CHECK(he.weight().value.cwiseAbs().maxCoeff() <= T(he_bound));
  CHECK(he.weight().value.cwiseAbs().maxCoeff() > T(glorot));
}

TEMPLATE_TEST_CASE("Dense: bad arguments and shapes throw naming both shapes", "[nn][dense]", float, double) {
  using T = TestType;
  CHECK_THROWS_WITH(nn::Dense<T>(0, 3), Catch::Contains("in = 0"));
  CHECK_THROWS_AS(nn::Dense<T>(3, -1), std::invalid_argument);
  nn::Dense<T> d(4, 2);
  Matrix<T> X = Matrix<T>::Zero(3, 5);
  CHECK_THROWS_WITH(d.forward(X), Catch::Contains("3x5") && Catch::Contains("4 columns"));
  d.forward(Matrix<T>::Zero(3, 4));
  CHECK_THROWS_WITH(d.backward(Matrix<T>::Zero(2, 2)), Catch::Contains("2x2") && Catch::Contains("3x2"));
}

TEMPLATE_TEST_CASE("Dense: clone is deep", "[nn][dense]", float, double) {
  using T = TestType;
  nn::Dense<T> d(3, 2, 5);
  auto copy = d.clone();
  auto* p = copy->parameters()[0];
  p->value.setZero();
  CHECK_FALSE(d.weight().value.isZero());
  CHECK(copy->name() == "Dense");
}

TEMPLATE_TEST_CASE("Flatten: identity forward and backward", "[nn][flatten]", float, double) {
  using T = TestType;
  nn::Flatten<T> f;
  CHECK(f.name() == "Flatten");
  CHECK(f.parameters().empty());
  CHECK(f.input_size() == -1);
  CHECK(f.output_size(12) == 12);
  Rng rng(1);
  const Matrix<T> X = random_uniform<T>(4, 12, rng);
  CHECK(f.forward(X) == X);
  CHECK(f.backward(X * T(2)) == X * T(2));
  if constexpr (std::is_same_v<T, double>) {
    nn::Flatten<double> g;
    CHECK(test::check_layer(g, random_uniform<double>(3, 7, rng)).worst() < 1e-8);
  }
}
