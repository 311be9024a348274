#include <catch2/catch.hpp>

#include <eigenml/metrics.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "support/values.hpp"

using namespace eigenml;
using namespace eigenml::metrics;
using eigenml::test::labels;

// Reference numbers: tests/reference/data_metrics.py (scikit-learn 1.2.1).

namespace {

template <class T>
void regression_data(Vector<T>& y, Vector<T>& p, Matrix<T>& Y2, Matrix<T>& P2) {
  y.resize(8);
  p.resize(8);
  y << T(3.0), T(-0.5), T(2.0), T(7.0), T(4.2), T(-1.3), T(0.0), T(5.5);
  p << T(2.5), T(0.0), T(2.1), T(7.8), T(3.9), T(-0.7), T(0.4), T(5.0);
  Y2.resize(8, 2);
  P2.resize(8, 2);
  for (Index i = 0; i < 8; ++i) {
    Y2(i, 0) = y(i);
    P2(i, 0) = p(i);
    Y2(i, 1) = T(2) * y(i) + T(i);
    P2(i, 1) = T(1.9) * p(i) + T(i) + T(0.3);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("regression metrics match hand values and scikit-learn", "[data][metrics]", float, double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-13;
  Vector<T> y, p;
  Matrix<T> Y2, P2;
  regression_data(y, p, Y2, P2);

  // By hand: errors 0.5 -0.5 -0.1 -0.8 0.3 -0.6 -0.4 0.5; squares sum to 2.01, |.| to 3.7.
  CHECK(mean_squared_error(y, p) == Approx(2.01 / 8).epsilon(tol));
  CHECK(mean_absolute_error(y, p) == Approx(3.7 / 8).epsilon(tol));
  CHECK(root_mean_squared_error(y, p) == Approx(std::sqrt(2.01 / 8)).epsilon(tol));
  CHECK(r2_score(y, p) == Approx(0.9677516394922087).epsilon(tol));
  // Two outputs: scikit-learn's uniform average over the columns.
  CHECK(mean_squared_error(Y2, P2) == Approx(0.7153499999999999).epsilon(tol));
  CHECK(mean_absolute_error(Y2, P2) == Approx(0.7424999999999999).epsilon(tol));
  CHECK(r2_score(Y2, P2) == Approx(0.9684538888175784).epsilon(tol));
  CHECK(root_mean_squared_error(Y2, P2) == Approx(0.7936366514939812).epsilon(tol));

  // Perfect prediction; the mean as prediction scores R^2 = 0.
  CHECK(mean_squared_error(y, y) == 0.0);
  CHECK(r2_score(y, y) == 1.0);
  Vector<T> mean_pred = Vector<T>::Constant(8, y.mean());
  CHECK(r2_score(y, mean_pred) == Approx(0.0).margin(1e-6));
  // Constant target: 1 if exact, else 0 (scikit-learn's force_finite).
  Vector<T> c = Vector<T>::Constant(3, T(2));
  CHECK(r2_score(c, c) == 1.0);
  Vector<T> c2 = c;
  c2(0) = T(2.5);
  CHECK(r2_score(c, c2) == 0.0);
  // Expressions are accepted.
  CHECK(mean_squared_error(y, p + Vector<T>::Ones(8)) > mean_squared_error(y, p));
}

TEST_CASE("regression metrics reject bad input", "[data][metrics]") {
  Vector<double> a(3), b(4), e(0);
  a << 1, 2, 3;
  b << 1, 2, 3, 4;
  CHECK_THROWS_WITH(mean_squared_error(a, b), Catch::Contains("y_true has shape 3x1 but y_pred has shape 4x1"));
  CHECK_THROWS_WITH(r2_score(e, e), Catch::Contains("empty"));
  Vector<double> n = a;
  n(1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(mean_absolute_error(a, n), Catch::Contains("y_pred contains NaN at row 1"));
  CHECK_THROWS_AS(root_mean_squared_error(n, a), std::invalid_argument);
}

TEST_CASE("accuracy, confusion matrix, precision, recall, F1 match hand values and scikit-learn",
          "[data][metrics]") {
  const Labels t = labels({0, 1, 2, 2, 1, 0, 0, 1, 2, 1, 0, 1});
  const Labels q = labels({0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0});
  CHECK(accuracy(t, q) == Approx(7.0 / 12));
  Eigen::MatrixXi expected(3, 3);
  expected << 3, 1, 0,  //
      1, 4, 0,          //
      1, 2, 0;
  const Eigen::MatrixXi cm = confusion_matrix(t, q);
  CHECK(cm == expected);
  CHECK(confusion_matrix(t, q, 4).rows() == 4);  // an explicit K larger than the labels

  // By hand from the matrix: precision = diag / column sums, recall = diag / row sums.
  const auto r = classification_report(t, q);
  CHECK(r.precision(0) == Approx(3.0 / 5));
  CHECK(r.precision(1) == Approx(4.0 / 7));
  CHECK(r.precision(2) == 0.0);  // never predicted: 0/0 -> 0
  CHECK(r.recall(0) == Approx(0.75));
  CHECK(r.recall(1) == Approx(0.8));
  CHECK(r.recall(2) == 0.0);
  CHECK(r.f1(0) == Approx(0.6666666666666665));
  CHECK(r.f1(1) == Approx(0.6666666666666666));
  CHECK(r.f1(2) == 0.0);
  CHECK(r.support == Eigen::Vector3i(4, 5, 3));
  CHECK(r.macro_precision == Approx(0.3904761904761904));
  CHECK(r.macro_recall == Approx(0.5166666666666667));
  CHECK(r.macro_f1 == Approx(0.44444444444444436));
  CHECK(r.accuracy == Approx(7.0 / 12));
  CHECK(precision(t, q) == r.precision);
  CHECK(recall(t, q) == r.recall);
  CHECK(f1_score(t, q) == r.f1);
  CHECK(macro_f1(t, q) == r.macro_f1);
  CHECK(macro_precision(t, q) == r.macro_precision);
  CHECK(macro_recall(t, q) == r.macro_recall);

  // Macro averages skip classes absent from both y_true and y_pred (scikit-learn's label set).
  const Labels a = labels({0, 2, 2, 0});
  const Labels b = labels({0, 2, 0, 0});
  const auto ra = classification_report(a, b);
  CHECK(ra.precision.size() == 3);
  CHECK(ra.macro_recall == Approx((1.0 + 0.5) / 2));
}

TEST_CASE("classification metrics reject bad input", "[data][metrics]") {
  const Labels a = labels({0, 1, 2});
  const Labels b = labels({0, 1});
  const Labels neg = labels({0, -1, 1});
  const Labels empty(0);
  CHECK_THROWS_WITH(accuracy(a, b), Catch::Contains("y_true has 3 rows but y_pred has 2"));
  CHECK_THROWS_WITH(accuracy(empty, empty), Catch::Contains("empty"));
  CHECK_THROWS_WITH(confusion_matrix(a, neg), Catch::Contains("y_pred label -1 at row 1"));
  CHECK_THROWS_WITH(confusion_matrix(a, a, 2), Catch::Contains("y_true label 2 at row 2 is outside 0..1"));
  CHECK_THROWS_WITH(classification_report(empty, empty), Catch::Contains("empty"));
  CHECK_THROWS_AS(f1_score(a, b), std::invalid_argument);
  const Eigen::MatrixXi two_columns = Eigen::MatrixXi::Zero(3, 2);
  CHECK_THROWS_WITH(accuracy(two_columns, a), Catch::Contains("y_true has shape 3x2, expected one column of labels"));
  CHECK_THROWS_WITH(confusion_matrix(a, two_columns), Catch::Contains("y_pred has shape 3x2"));
}

TEST_CASE("classification metrics take any int column expression", "[data][metrics]") {
  const Labels a = labels({0, 1, 2, 1, 0});
  const Labels b = labels({0, 2, 2, 1, 1});
  // A block, a Map and a strided view of the same labels give what the copies give.
  CHECK(accuracy(a.head(3), b.head(3)) == accuracy(Labels(a.head(3)), Labels(b.head(3))));
  CHECK(accuracy(a.head(3), b.head(3)) == Approx(2.0 / 3.0));
  const Eigen::Map<const Labels> ma(a.data(), a.size());
  CHECK(confusion_matrix(ma, b) == confusion_matrix(a, b));
  const Eigen::MatrixXi pairs = (Eigen::MatrixXi(5, 2) << 0, 0, 1, 2, 2, 2, 1, 1, 0, 1).finished();
  CHECK(confusion_matrix(pairs.col(0), pairs.col(1)) == confusion_matrix(a, b));
  // Columns of a row-major matrix are strided: the metrics work on a contiguous copy of them.
  const Eigen::Matrix<int, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = pairs;
  CHECK(confusion_matrix(rows.col(0), rows.col(1)) == confusion_matrix(a, b));
  CHECK(accuracy(rows.col(0), rows.col(1)) == accuracy(a, b));
  const auto report = classification_report(pairs.col(0), pairs.col(1), 4);
  CHECK(report.precision.size() == 4);
  CHECK(report.accuracy == Approx(accuracy(a, b)));
  CHECK(format_confusion_matrix(confusion_matrix(a, b).block(0, 0, 2, 2)) ==
        format_confusion_matrix(Eigen::MatrixXi(confusion_matrix(a, b).block(0, 0, 2, 2))));
}

TEMPLATE_TEST_CASE("log_loss matches hand values and scikit-learn, clipping like it", "[data][metrics]", float,
                   double) {
  using T = TestType;
  // By hand: rows whose true-class probability is not 0 or 1.
  Matrix<T> P(3, 3);
  P << T(0.7), T(0.2), T(0.1), T(0.1), T(0.8), T(0.1), T(0.2), T(0.3), T(0.5);
  const Labels t3 = labels({0, 1, 2});
  const double hand = -(std::log(0.7) + std::log(0.8) + std::log(0.5)) / 3;
  CHECK(log_loss(t3, P) == Approx(hand).epsilon(1e-6));

  // With a true-class probability of exactly 0, clipped at eps = machine epsilon of T.
  Matrix<T> Q(7, 3);
  Q << T(0.7), T(0.2), T(0.1), T(0.1), T(0.8), T(0.1), T(0.2), T(0.3), T(0.5), T(0.6), T(0.3), T(0.1), T(0.25),
      T(0.5), T(0.25), T(1.0), T(0.0), T(0.0), T(0.0), T(1.0), T(0.0);
  const Labels t7 = labels({0, 1, 2, 2, 1, 0, 0});
  const double expected = std::is_same_v<T, float> ? 2.8872976353001576 : 5.758907334069148;
  CHECK(log_loss(t7, Q) == Approx(expected).epsilon(1e-6));
  CHECK(std::isfinite(log_loss(t7, Q)));
  // An explicit eps: the zero is clipped to 1e-3 (row renormalised by 1 + 2e-3).
  const double manual = (-std::log(0.7) - std::log(0.8) - std::log(0.5) - std::log(0.1) - std::log(0.5) -
                         std::log((1 - 1e-3) / (1 - 1e-3 + 2e-3)) - std::log(1e-3 / (1 - 1e-3 + 2e-3))) /
                        7;
  CHECK(log_loss(t7, Q, 1e-3) == Approx(manual).epsilon(1e-6));

  // Binary: n x 1 (P(class 1)) and n x 2 agree with each other and with scikit-learn.
  Vector<T> pb(8);
  pb << T(0.9), T(0.2), T(0.6), T(0.45), T(0.1), T(0.7), T(1.0), T(0.0);
  const Labels yb = labels({1, 0, 1, 1, 0, 0, 1, 0});
  Matrix<T> pb2(8, 2);
  pb2.col(0) = Vector<T>::Ones(8) - pb;
  pb2.col(1) = pb;
  CHECK(log_loss(yb, pb) == Approx(0.3683963383674451).epsilon(1e-6));
  CHECK(log_loss(yb, pb2) == Approx(0.3683963383674451).epsilon(1e-6));
}

TEST_CASE("log_loss rejects bad input", "[data][metrics]") {
  Matrix<double> P(2, 2);
  P << 0.3, 0.7, 0.6, 0.4;
  CHECK_THROWS_WITH(log_loss(labels({0, 2}), P), Catch::Contains("label 2 at row 1 is outside 0..1"));
  CHECK_THROWS_WITH(log_loss(labels({0}), P), Catch::Contains("y_true has 1 rows but proba has 2"));
  Matrix<double> bad = P;
  bad(1, 0) = 1.5;
  CHECK_THROWS_WITH(log_loss(labels({0, 1}), bad), Catch::Contains("proba(1, 0) = 1.5"));
  bad(1, 0) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(log_loss(labels({0, 1}), bad), Catch::Contains("NaN"));
  CHECK_THROWS_WITH(log_loss(labels({0, 1}), P, 0.0), Catch::Contains("eps"));
  CHECK_THROWS_WITH(log_loss(Labels(0), Matrix<double>(0, 2)), Catch::Contains("empty"));
  Vector<double> p1(2);
  p1 << 0.2, 0.9;
  CHECK_THROWS_WITH(log_loss(labels({0, 2}), p1), Catch::Contains("outside 0..1"));
}

TEMPLATE_TEST_CASE("roc_auc is the Mann-Whitney statistic with ties counted half", "[data][metrics]", float, double) {
  using T = TestType;
  Vector<T> s(10);
  s << T(0.9), T(0.6), T(0.6), T(0.45), T(0.45), T(0.1), T(0.8), T(0.3), T(0.6), T(0.2);
  const Labels y = labels({1, 0, 1, 1, 0, 0, 1, 0, 0, 1});
  // Independent check: count pairs (positive, negative), ties 1/2.
  double pairs = 0, wins = 0;
  for (Index i = 0; i < 10; ++i)
    for (Index j = 0; j < 10; ++j)
      if (y(i) == 1 && y(j) == 0) {
        pairs += 1;
        wins += s(i) > s(j) ? 1.0 : (s(i) == s(j) ? 0.5 : 0.0);
      }
  CHECK(roc_auc(y, s) == Approx(wins / pairs));
  CHECK(roc_auc(y, s) == Approx(0.7));  // scikit-learn
  Vector<T> pb(8);
  pb << T(0.9), T(0.2), T(0.6), T(0.45), T(0.1), T(0.7), T(1.0), T(0.0);
  CHECK(roc_auc(labels({1, 0, 1, 1, 0, 0, 1, 0}), pb) == Approx(0.875));
  // Perfect, inverted and constant scorers.
  Vector<T> r(4);
  r << T(1), T(2), T(3), T(4);
  CHECK(roc_auc(labels({0, 0, 1, 1}), r) == 1.0);
  CHECK(roc_auc(labels({1, 1, 0, 0}), r) == 0.0);
  CHECK(roc_auc(labels({1, 0, 1, 0}), Vector<T>::Zero(4)) == 0.5);
  // A column of a probability matrix works.
  Matrix<T> P(4, 2);
  P.col(1) = r / T(5);
  P.col(0) = Vector<T>::Ones(4) - P.col(1);
  CHECK(roc_auc(labels({0, 0, 1, 1}), P.col(1)) == 1.0);
}

TEST_CASE("roc_auc rejects bad input", "[data][metrics]") {
  Vector<double> s(3);
  s << 0.1, 0.2, 0.3;
  CHECK_THROWS_WITH(roc_auc(labels({1, 1, 1}), s), Catch::Contains("only class 1"));
  CHECK_THROWS_WITH(roc_auc(labels({0, 2, 1}), s), Catch::Contains("label 2 at row 1"));
  CHECK_THROWS_WITH(roc_auc(labels({0, 1}), s), Catch::Contains("y_true has 2 rows but scores has 3"));
  Matrix<double> two(3, 2);
  two.setZero();
  CHECK_THROWS_WITH(roc_auc(labels({0, 1, 0}), two), Catch::Contains("expected a column"));
  s(2) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(roc_auc(labels({0, 1, 0}), s), Catch::Contains("Inf at row 2"));
}

TEST_CASE("format_confusion_matrix aligns rows true, columns predicted", "[data][metrics]") {
  Eigen::MatrixXi cm(2, 2);
  cm << 50, 3, 2, 145;
  const std::string expected =
      "      predicted\n"
      "true    0    1\n"
      "   0   50    3\n"
      "   1    2  145\n";
  CHECK(format_confusion_matrix(cm) == expected);
  const std::string named = format_confusion_matrix(cm, {"malignant", "benign"});
  CHECK(named ==
        "           predicted\n"
        "true       malignant     benign\n"
        "malignant         50          3\n"
        "   benign          2        145\n");
  CHECK_THROWS_WITH(format_confusion_matrix(cm, {"a"}), Catch::Contains("1 names for 2 classes"));
  CHECK_THROWS_WITH(format_confusion_matrix(Eigen::MatrixXi(2, 3)), Catch::Contains("K x K"));
}
