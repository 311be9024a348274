#include <catch2/catch.hpp>

#include <eigenml/nn/losses.hpp>
#include <eigenml/random.hpp>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <type_traits>

#include "support/gradcheck.hpp"
#include "support/values.hpp"

using namespace eigenml;
using test::mat;
using test::max_abs_diff;
using test::value_tol;
using test::labels;

namespace {

// The fixed inputs of tests/reference/losses_activations.py.
template <class T>
Matrix<T> ref_pred() {
  return mat<T>(3, 2, {0.5, -1.0, 2.0, 0.25, -0.75, 1.5});
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// MSELoss

TEMPLATE_TEST_CASE("MSELoss matches PyTorch's value and gradient", "[nn][losses]", float, double) {
  using T = TestType;
  nn::MSELoss<T> loss;
  const Matrix<T> target = mat<T>(3, 2, {1.0, 0.0, 1.5, -0.5, 0.0, 2.0});
  const T value = loss.forward(ref_pred<T>(), target);
  CHECK(value == Approx(0.47916666666666669).epsilon(value_tol<T>));
  const Matrix<double> expected_grad =
      mat<double>(3, 2, {-0.16666666666666666, -0.33333333333333331, 0.16666666666666666, 0.25, -0.25,
                         -0.16666666666666666});
  CHECK(max_abs_diff(loss.backward(), expected_grad) <= value_tol<T>);
}

TEST_CASE("MSELoss gradient matches finite differences", "[nn][losses][gradcheck]") {
  Rng rng(7);
  nn::MSELoss<double> loss;
  const Matrix<double> pred = random_normal<double>(6, 4, rng);
  const Matrix<double> target = random_normal<double>(6, 4, rng);
  CHECK(test::check_loss(loss, pred, target) < 1e-8);
}

TEMPLATE_TEST_CASE("MSELoss accepts a Vector target for an N x 1 prediction", "[nn][losses]", float, double) {
  using T = TestType;
  nn::MSELoss<T> loss;
  const Matrix<T> pred = mat<T>(3, 1, {1.0, 2.0, 3.0});
  Vector<T> y(3);
  y << T(0), T(2), T(5);
  // (1 + 0 + 4) / 3
  CHECK(loss.forward(pred, y) == Approx(5.0 / 3.0).epsilon(value_tol<T>));
  CHECK(max_abs_diff(loss.backward(), mat<double>(3, 1, {2.0 / 3, 0.0, -4.0 / 3})) <= value_tol<T>);
  // A column of a larger matrix works too (any dense expression of scalar T).
  const Matrix<T> wide = mat<T>(3, 2, {9, 0, 9, 2, 9, 5});
  CHECK(loss.forward(pred, wide.col(1)) == Approx(5.0 / 3.0).epsilon(value_tol<T>));
  CHECK_THROWS_WITH(loss.forward(pred, Vector<T>::Zero(4)),
                    "MSELoss::forward: pred has shape 3x1 but target has shape 4x1");
}

TEMPLATE_TEST_CASE("MSELoss rejects bad input", "[nn][losses][errors]", float, double) {
  using T = TestType;
  nn::MSELoss<T> loss;
  CHECK_THROWS_WITH(loss.backward(), "MSELoss::backward: backward called before forward");
  const Matrix<T> pred = ref_pred<T>();
  CHECK_THROWS_WITH(loss.forward(pred, Matrix<T>::Zero(2, 3)),
                    "MSELoss::forward: pred has shape 3x2 but target has shape 2x3");
  CHECK_THROWS_WITH(loss.forward(Matrix<T>(0, 2), Matrix<T>(0, 2)), Catch::Contains("pred is empty"));
  Matrix<T> bad = pred;
  bad(2, 1) = std::numeric_limits<T>::quiet_NaN();
  CHECK_THROWS_WITH(loss.forward(bad, pred), "MSELoss::forward: pred contains NaN at row 2, column 1");
  bad(2, 1) = std::numeric_limits<T>::infinity();
  CHECK_THROWS_WITH(loss.forward(pred, bad), "MSELoss::forward: target contains Inf at row 2, column 1");
  // A failed forward leaves nothing for backward to return.
  loss.forward(pred, pred);
  CHECK_THROWS(loss.forward(pred, bad));
  CHECK_THROWS_WITH(loss.backward(), Catch::Contains("backward called before forward"));
}

// ---------------------------------------------------------------------------------------------
// BCEWithLogitsLoss

TEMPLATE_TEST_CASE("BCEWithLogitsLoss matches PyTorch's value and gradient", "[nn][losses]", float, double) {
  using T = TestType;
  nn::BCEWithLogitsLoss<T> loss;
  const Matrix<T> target = mat<T>(3, 2, {1.0, 0.0, 0.25, 1.0, 0.0, 0.5});
  const T value = loss.forward(ref_pred<T>(), target);
  CHECK(value == Approx(0.72141506445296633).epsilon(value_tol<T>));
  const Matrix<double> expected_grad =
      mat<double>(3, 2, {-0.062923444799690906, 0.04482357022833252, 0.10513284632964705, -0.072970583185700322,
                         0.053470216804101169, 0.052929079365607277});
  CHECK(max_abs_diff(loss.backward(), expected_grad) <= value_tol<T>);
}

TEST_CASE("BCEWithLogitsLoss gradient matches finite differences", "[nn][losses][gradcheck]") {
  Rng rng(11);
  nn::BCEWithLogitsLoss<double> loss;
  const Matrix<double> logits = random_normal<double>(5, 3, rng, 0.0, 3.0);
  // Soft targets in [0, 1], including the ends.
  Matrix<double> target = random_uniform<double>(5, 3, rng, 0.0, 1.0);
  target(0, 0) = 0.0;
  target(1, 2) = 1.0;
  CHECK(test::check_loss(loss, logits, target) < 1e-7);
}

TEMPLATE_TEST_CASE("BCEWithLogitsLoss is exact and finite for logits of +-1000", "[nn][losses][stability]", float,
                   double) {
  using T = TestType;
  nn::BCEWithLogitsLoss<T> loss;
  // Confidently wrong: the loss is the logit's magnitude; gradient (sigma(z) - y) / n = ±1/n.
  CHECK(loss.forward(mat<T>(1, 1, {1000}), mat<T>(1, 1, {0})) == T(1000));
  CHECK(loss.backward()(0, 0) == T(1));
  CHECK(loss.forward(mat<T>(1, 1, {-1000}), mat<T>(1, 1, {1})) == T(1000));
  CHECK(loss.backward()(0, 0) == T(-1));
  // Confidently right: zero loss and gradient, up to the smallest normal number (Eigen's vectorised
  // exp clamps its argument, so exp(-1000) may come out as ~1e-308 rather than 0).
  const T tiny = std::numeric_limits<T>::min();
  const T right = loss.forward(mat<T>(1, 2, {1000, -1000}), mat<T>(1, 2, {1, 0}));
  CHECK(right >= T(0));
  CHECK(right <= tiny);
  CHECK(loss.backward().cwiseAbs().maxCoeff() <= tiny);
  // Mean over all elements: (1000 + 0 + 1000 * 0.5 + log 2) / 4 with a soft target.
  const T v = loss.forward(mat<T>(2, 2, {1000, -1000, 1000, 0}), mat<T>(2, 2, {0, 0, 0.5, 1}));
  CHECK(v == Approx((1500 + std::log(2.0)) / 4).epsilon(value_tol<T>));
  CHECK(loss.backward().allFinite());
  CHECK(max_abs_diff(loss.backward(), mat<double>(2, 2, {0.25, 0.0, 0.125, -0.125})) <= value_tol<T>);
}

TEMPLATE_TEST_CASE("BCEWithLogitsLoss rejects bad input", "[nn][losses][errors]", float, double) {
  using T = TestType;
  nn::BCEWithLogitsLoss<T> loss;
  CHECK_THROWS_WITH(loss.backward(), "BCEWithLogitsLoss::backward: backward called before forward");
  const Matrix<T> logits = ref_pred<T>();
  const Matrix<T> target = mat<T>(3, 2, {1, 0, 0, 1, 0.5, 1});
  CHECK_THROWS_WITH(loss.forward(logits, Matrix<T>::Zero(3, 1)),
                    "BCEWithLogitsLoss::forward: pred has shape 3x2 but target has shape 3x1");
  CHECK_THROWS_WITH(loss.forward(Matrix<T>(0, 1), Matrix<T>(0, 1)), Catch::Contains("pred is empty"));
  Matrix<T> bad = logits;
  bad(1, 0) = -std::numeric_limits<T>::infinity();
  CHECK_THROWS_WITH(loss.forward(bad, target), "BCEWithLogitsLoss::forward: pred contains Inf at row 1, column 0");
  bad = target;
  bad(0, 1) = std::numeric_limits<T>::quiet_NaN();
  CHECK_THROWS_WITH(loss.forward(logits, bad), "BCEWithLogitsLoss::forward: target contains NaN at row 0, column 1");
  bad(0, 1) = T(1.5);
  CHECK_THROWS_WITH(loss.forward(logits, bad),
                    Catch::Contains("target value 1.5") && Catch::Contains("row 0, column 1 is outside [0, 1]"));
  bad(0, 1) = T(-0.25);
  CHECK_THROWS_WITH(loss.forward(logits, bad), Catch::Contains("target value -0.25"));
  CHECK_THROWS_WITH(loss.backward(), Catch::Contains("backward called before forward"));
}

// ---------------------------------------------------------------------------------------------
// CrossEntropyLoss

TEMPLATE_TEST_CASE("CrossEntropyLoss matches PyTorch's value and gradient", "[nn][losses]", float, double) {
  using T = TestType;
  nn::CrossEntropyLoss<T> loss;
  const Matrix<T> logits = mat<T>(4, 3, {1.0, 2.0, -1.0, 0.5, -0.5, 3.0, -2.0, 0.0, 0.25, 1.5, 1.5, 1.5});
  const T value = loss.forward(logits, labels({1, 0, 2, 2}));
  CHECK(value == Approx(1.1718854853499705).epsilon(value_tol<T>));
  const Matrix<double> expected_grad = mat<double>(
      4, 3, {0.064874115085604783, -0.073653871825439698, 0.0087797567398349326, -0.23155032392203978,
             0.0067872565253541302, 0.22476306739668564, 0.013984612054833765, 0.10333308299494851,
             -0.11731769504978226, 0.083333333333333329, 0.083333333333333329, -0.16666666666666669});
  CHECK(max_abs_diff(loss.backward(), expected_grad) <= value_tol<T>);
  // Each row of the gradient sums to zero (softmax and one-hot both sum to one).
  CHECK(loss.backward().rowwise().sum().cwiseAbs().maxCoeff() <= 10 * value_tol<T>);
}

TEST_CASE("CrossEntropyLoss gradient matches finite differences", "[nn][losses][gradcheck]") {
  Rng rng(3);
  nn::CrossEntropyLoss<double> loss;
  const Matrix<double> logits = random_normal<double>(6, 5, rng, 0.0, 2.0);
  CHECK(test::check_loss(loss, logits, labels({0, 4, 2, 2, 1, 3})) < 1e-7);
}

TEMPLATE_TEST_CASE("CrossEntropyLoss is exact and finite for logits of +-1000", "[nn][losses][stability]", float,
                   double) {
  using T = TestType;
  nn::CrossEntropyLoss<T> loss;
  const Matrix<T> logits = mat<T>(1, 2, {1000, -1000});
  CHECK(loss.forward(logits, labels({0})) == T(0));
  CHECK(loss.backward().isZero(0));
  CHECK(loss.forward(logits, labels({1})) == T(2000));
  CHECK(max_abs_diff(loss.backward(), mat<double>(1, 2, {1, -1})) == 0);
  // Mean over rows, with a row whose two top logits tie: (0 + 2000 + log 2) / 3.
  const T v = loss.forward(mat<T>(3, 2, {1000, -1000, 1000, -1000, 1000, 1000}), labels({0, 1, 1}));
  CHECK(v == Approx((2000 + std::log(2.0)) / 3).epsilon(value_tol<T>));
  CHECK(max_abs_diff(loss.backward(), mat<double>(3, 2, {0, 0, 1.0 / 3, -1.0 / 3, 1.0 / 6, -1.0 / 6})) <=
        value_tol<T>);
}

TEMPLATE_TEST_CASE("CrossEntropyLoss keeps its precision for large logits", "[nn][losses][stability]", float,
                   double) {
  // The loss is invariant under adding a constant to every logit. Row by row, (max − Z_iy) and
  // log(sum) are both small and nonnegative; the batch sums of logsumexp and Z_iy would each be
  // ~N·shift and cancel (in float that lost 1.5e-3 relative at shift 1e4 for this batch).
  using T = TestType;
  Rng rng(4);
  const Matrix<double> Z = random_normal<double>(256, 10, rng);
  Labels y(256);
  for (Index i = 0; i < 256; ++i) y(i) = static_cast<int>(i % 10);
  for (const double shift : {1e2, 1e4}) {
    CAPTURE(shift);
    // The shifted logits rounded to T, and the loss of those rounded logits in long double.
    const Matrix<T> Zt = (Z.array() + shift).matrix().template cast<T>();
    long double total = 0;
    for (Index i = 0; i < Zt.rows(); ++i) {
      const long double m = Zt.row(i).maxCoeff();
      long double sum = 0;
      for (Index j = 0; j < Zt.cols(); ++j) sum += std::exp(static_cast<long double>(Zt(i, j)) - m);
      total += (m - Zt(i, y(i))) + std::log(sum);
    }
    const double expected = static_cast<double>(total / Zt.rows());
    nn::CrossEntropyLoss<T> loss;
    CHECK(loss.forward(Zt, y) == Approx(expected).epsilon(std::is_same_v<T, float> ? 2e-6 : 1e-14));
  }
}

TEMPLATE_TEST_CASE("CrossEntropyLoss rejects bad input", "[nn][losses][errors]", float, double) {
  using T = TestType;
  nn::CrossEntropyLoss<T> loss;
  CHECK_THROWS_WITH(loss.backward(), "CrossEntropyLoss::backward: backward called before forward");
  const Matrix<T> logits = ref_pred<T>();  // 3 x 2: classes 0..1
  CHECK_THROWS_WITH(loss.forward(logits, labels({0, 1})),
                    "CrossEntropyLoss::forward: pred has 3 rows but target has 2");
  CHECK_THROWS_WITH(loss.forward(logits, labels({0, 2, 1})),
                    "CrossEntropyLoss::forward: label 2 at row 1 is outside 0..1");
  CHECK_THROWS_WITH(loss.forward(logits, labels({0, 1, -1})), Catch::Contains("label -1 at row 2"));
  CHECK_THROWS_WITH(loss.forward(Matrix<T>(0, 2), Labels(0)), Catch::Contains("pred is empty"));
  CHECK_THROWS_WITH(loss.forward(Matrix<T>(3, 0), labels({0, 0, 0})), Catch::Contains("pred is empty"));
  Matrix<T> bad = logits;
  bad(0, 0) = std::numeric_limits<T>::quiet_NaN();
  CHECK_THROWS_WITH(loss.forward(bad, labels({0, 1, 1})),
                    "CrossEntropyLoss::forward: pred contains NaN at row 0, column 0");
  CHECK_THROWS_WITH(loss.backward(), Catch::Contains("backward called before forward"));
}

// ---------------------------------------------------------------------------------------------
// Shared behaviour

TEMPLATE_TEST_CASE("float losses agree with double on random data", "[nn][losses]", float, double) {
  using T = TestType;
  Rng rng(5);
  const Matrix<double> pred = random_normal<double>(8, 3, rng, 0.0, 2.0);
  const Matrix<double> target = random_uniform<double>(8, 3, rng, 0.0, 1.0);
  const Labels y = labels({0, 1, 2, 2, 1, 0, 0, 1});
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-15;

  nn::MSELoss<T> mse;
  nn::MSELoss<double> mse_d;
  CHECK(mse.forward(pred.cast<T>(), target.cast<T>()) == Approx(mse_d.forward(pred, target)).epsilon(tol));
  CHECK(test::rel_error(mse.backward().template cast<double>(), mse_d.backward()) <= tol);

  nn::BCEWithLogitsLoss<T> bce;
  nn::BCEWithLogitsLoss<double> bce_d;
  CHECK(bce.forward(pred.cast<T>(), target.cast<T>()) == Approx(bce_d.forward(pred, target)).epsilon(tol));
  CHECK(test::rel_error(bce.backward().template cast<double>(), bce_d.backward()) <= tol);

  nn::CrossEntropyLoss<T> ce;
  nn::CrossEntropyLoss<double> ce_d;
  CHECK(ce.forward(pred.cast<T>(), y) == Approx(ce_d.forward(pred, y)).epsilon(tol));
  CHECK(test::rel_error(ce.backward().template cast<double>(), ce_d.backward()) <= tol);
}

TEMPLATE_TEST_CASE("losses reuse their gradient buffer for batches of one shape", "[nn][losses]", float, double) {
  using T = TestType;
  Rng rng(9);
  const Matrix<T> a = random_normal<T>(4, 3, rng), b = random_normal<T>(4, 3, rng);
  const Matrix<T> t = random_uniform<T>(4, 3, rng, 0.0, 1.0);
  const Labels y = labels({0, 1, 2, 1});

  nn::MSELoss<T> mse;
  mse.forward(a, t);
  const T* p = mse.backward().data();
  mse.forward(b, t);
  CHECK(mse.backward().data() == p);

  nn::BCEWithLogitsLoss<T> bce;
  bce.forward(a, t);
  p = bce.backward().data();
  bce.forward(b, t);
  CHECK(bce.backward().data() == p);

  nn::CrossEntropyLoss<T> ce;
  ce.forward(a, y);
  p = ce.backward().data();
  ce.forward(b, y);
  CHECK(ce.backward().data() == p);
}
