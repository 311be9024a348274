#include <catch2/catch.hpp>

#include <eigenml/core.hpp>
#include <eigenml/detail/check.hpp>
#include <eigenml/detail/numerics.hpp>

#include <cmath>
#include <limits>

using namespace eigenml;

TEST_CASE("TrainOptions validates its fields", "[core]") {
  CHECK_NOTHROW(TrainOptions{}.validate());
  CHECK_THROWS_WITH(TrainOptions{.epochs = 0}.validate(), Catch::Contains("epochs"));
  CHECK_THROWS_WITH((TrainOptions{.epochs = 1, .batch_size = -1}.validate()), Catch::Contains("batch_size"));
}

TEST_CASE("Parameter holds a value and a gradient of one shape", "[core]") {
  Parameter<float> p(3, 2);
  CHECK(p.value.rows() == 3);
  CHECK(p.grad.cols() == 2);
  CHECK(p.value.isZero());
}

TEST_CASE("checks name the problem", "[core]") {
  Matrix<double> a(2, 3), b(3, 2);
  a.setZero();
  CHECK_THROWS_WITH(detail::check_same_shape("f", "a", a, "b", b), "f: a has shape 2x3 but b has shape 3x2");
  CHECK_THROWS_WITH(detail::check_cols("f", "X", a, 4), Catch::Contains("expected 4 columns"));
  a(1, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(detail::check_finite("f", "X", a), "f: X contains NaN at row 1, column 2");
  a(1, 2) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(detail::check_finite("f", "X", a), Catch::Contains("Inf at row 1"));
  Labels y(3);
  y << 0, 2, 3;
  CHECK_THROWS_WITH(detail::check_labels("f", y, 3), Catch::Contains("label 3 at row 2 is outside 0..2"));
  CHECK_THROWS_AS(detail::check_nonempty("f", "X", Matrix<double>(0, 3)), std::invalid_argument);
}

TEMPLATE_TEST_CASE("stable primitives do not overflow", "[core][numerics]", float, double) {
  using T = TestType;
  CHECK(detail::sigmoid(T(1000)) == T(1));
  CHECK(detail::sigmoid(T(-1000)) == T(0));
  CHECK(detail::sigmoid(T(0)) == T(0.5));
  CHECK(detail::log1pexp(T(1000)) == Approx(1000));
  CHECK(detail::log1pexp(T(-1000)) == T(0));
  CHECK(detail::log1pexp(T(0)) == Approx(std::log(2.0)));
  CHECK(detail::log_sigmoid(T(-1000)) == Approx(-1000));

  Matrix<T> Z(2, 3);
  Z << 1000, 999, -1000, 1, 2, 3;
  Matrix<T> P;
  detail::softmax_rows<T>(Z, P);
  CHECK(P.allFinite());
  CHECK(P.row(0).sum() == Approx(1));
  CHECK(P(0, 0) == Approx(1 / (1 + std::exp(-1.0))));
  Vector<T> lse;
  detail::logsumexp_rows<T>(Z, lse);
  CHECK(lse(0) == Approx(1000 + std::log1p(std::exp(-1.0))));
  CHECK(lse(1) == Approx(std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0))));
}
