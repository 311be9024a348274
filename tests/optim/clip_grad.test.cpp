#include "optim_test_support.hpp"  // first: configures Eigen's allocation check

#include <cmath>
#include <limits>

using namespace eigenml;

TEMPLATE_TEST_CASE("clip_grad_norm scales all gradients by one factor", "[optim][clip]", float, double) {
  using T = TestType;
  Parameter<T> a(1, 2), b(2, 1);
  a.grad << 3, 0;
  b.grad << 0, 4;  // global norm sqrt(9 + 16) = 5
  const std::vector<Parameter<T>*> params{&a, &b};

  SECTION("above max_norm: scaled by max_norm / (norm + 1e-6)") {
    const T norm = optim::clip_grad_norm(params, 1.0);
    CHECK(norm == Approx(5));
    const double c = 1.0 / (5.0 + 1e-6);
    CHECK(a.grad(0, 0) == Approx(3 * c));
    CHECK(b.grad(1, 0) == Approx(4 * c));
    CHECK(a.grad(0, 1) == 0);
    // The clipped global norm is just below max_norm.
    CHECK(std::sqrt(a.grad.squaredNorm() + b.grad.squaredNorm()) == Approx(1.0));
  }
  SECTION("below max_norm: unchanged") {
    CHECK(optim::clip_grad_norm(params, 10.0) == Approx(5));
    CHECK(a.grad(0, 0) == 3);
    CHECK(b.grad(1, 0) == 4);
  }
  SECTION("zero gradients stay zero") {
    a.grad.setZero();
    b.grad.setZero();
    CHECK(optim::clip_grad_norm(params, 1.0) == 0);
    CHECK(a.grad.isZero());
  }
  SECTION("huge gradients do not overflow the norm") {
    const T big = std::numeric_limits<T>::max() / 4;
    a.grad << big, big;
    b.grad << big, big;  // norm = 2 * big, finite; its square is not
    const T norm = optim::clip_grad_norm(params, 1.0);
    CHECK(std::isfinite(norm));
    CHECK(norm / big == Approx(2));
    CHECK(a.grad(0, 0) == Approx(0.5));
  }
  SECTION("non-finite gradients and a bad max_norm throw") {
    b.grad(1, 0) = std::numeric_limits<T>::quiet_NaN();
    CHECK_THROWS_WITH(optim::clip_grad_norm(params, 1.0), Catch::Contains("grad of parameter 1 contains NaN at row 1"));
    b.grad(1, 0) = std::numeric_limits<T>::infinity();
    CHECK_THROWS_WITH(optim::clip_grad_norm(params, 1.0), Catch::Contains("grad of parameter 1 contains Inf at row 1"));
    b.grad(1, 0) = 4;
    CHECK(a.grad(0, 0) == 3);  // a failed call scales nothing
    CHECK_THROWS_WITH(optim::clip_grad_norm(params, -1.0), Catch::Contains("max_norm"));
    CHECK_THROWS_WITH(optim::clip_grad_norm(params, std::nan("")), Catch::Contains("max_norm"));
    CHECK_THROWS_WITH(optim::clip_grad_norm<T>({&a, nullptr}, 1.0), Catch::Contains("parameter 1 is a null pointer"));
  }
  SECTION("no parameters: norm 0") { CHECK(optim::clip_grad_norm<T>({}, 1.0) == 0); }
  SECTION("allocates nothing") {
    eigenml::test::EigenAllocationCounter eigen;
    optim::clip_grad_norm(params, 1.0);
    CHECK(eigen.count() == 0);
  }
}

TEMPLATE_TEST_CASE("clip_grad_value clamps every entry", "[optim][clip]", float, double) {
  using T = TestType;
  Parameter<T> a(2, 2);
  a.grad << -3, 0.5, 2, -0.25;
  const std::vector<Parameter<T>*> params{&a};
  optim::clip_grad_value(params, 1.0);
  Matrix<T> expected(2, 2);
  expected << -1, 0.5, 1, -0.25;
  CHECK(a.grad == expected);
  CHECK_THROWS_WITH(optim::clip_grad_value(params, -1.0), Catch::Contains("clip_value"));
  CHECK_THROWS_WITH(optim::clip_grad_value(params, std::nan("")), Catch::Contains("clip_value"));
  CHECK_THROWS_WITH(optim::clip_grad_value<T>({&a, nullptr}, 1.0), Catch::Contains("parameter 1 is a null pointer"));
  // Infinities are clamped like any other value (only NaN has no clamped value).
  a.grad(1, 1) = -std::numeric_limits<T>::infinity();
  optim::clip_grad_value(params, 1.0);
  CHECK(a.grad(1, 1) == -1);
  // A NaN in a later parameter: the call throws before clamping the earlier one.
  Parameter<T> b(1, 2);
  b.grad << T(0.5), std::numeric_limits<T>::quiet_NaN();
  a.grad(0, 0) = T(-3);
  CHECK_THROWS_WITH(optim::clip_grad_value<T>({&a, &b}, 1.0),
                    Catch::Contains("grad of parameter 1 contains NaN at row 0, column 1"));
  CHECK(a.grad(0, 0) == -3);
}
