#pragma once
/// \file metrics/regression.hpp
/// Regression metrics with scikit-learn's definitions. `y_true` and `y_pred` are any Eigen
/// expressions of one shape: a column of n targets, or `n x m` for m outputs (then, as
/// scikit-learn's default `multioutput="uniform_average"`, the score of each output column is
/// computed and the m scores averaged). Scores are `double`, accumulated in double.

#include <Eigen/Core>

#include <cmath>
#include <string_view>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"

namespace eigenml::metrics {

namespace detail_reg {

template <class A, class B>
void check_pair(std::string_view where, const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred) {
  eigenml::detail::check_nonempty(where, "y_true", y_true);
  eigenml::detail::check_same_shape(where, "y_true", y_true, "y_pred", y_pred);
  eigenml::detail::check_finite(where, "y_true", y_true);
  eigenml::detail::check_finite(where, "y_pred", y_pred);
}

/// Per-column mean of f(true - pred), as doubles: 1 x m.
template <class A, class B, class F>
Eigen::RowVectorXd column_means(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred, F f) {
  const Eigen::MatrixXd diff = y_true.template cast<double>() - y_pred.template cast<double>();
  return diff.unaryExpr(f).colwise().mean();
}

}  // namespace detail_reg

/// Mean squared error `(1/(n m)) sum (y_true - y_pred)^2`.
template <class A, class B>
double mean_squared_error(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred) {
  detail_reg::check_pair("metrics::mean_squared_error", y_true, y_pred);
  return detail_reg::column_means(y_true, y_pred, [](double d) { return d * d; }).mean();
}

/// Root mean squared error: `sqrt(MSE)` of each output column, averaged over columns
/// (scikit-learn's `root_mean_squared_error`; for a single column just `sqrt(MSE)`).
template <class A, class B>
double root_mean_squared_error(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred) {
  detail_reg::check_pair("metrics::root_mean_squared_error", y_true, y_pred);
  return detail_reg::column_means(y_true, y_pred, [](double d) { return d * d; }).cwiseSqrt().mean();
}

/// Mean absolute error `(1/(n m)) sum |y_true - y_pred|`.
template <class A, class B>
double mean_absolute_error(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred) {
  detail_reg::check_pair("metrics::mean_absolute_error", y_true, y_pred);
  return detail_reg::column_means(y_true, y_pred, [](double d) { return std::abs(d); }).mean();
}

/// Coefficient of determination per output column, `R^2 = 1 - SS_res / SS_tot` with
/// `SS_res = sum (y - y_pred)^2` and `SS_tot = sum (y - mean(y))^2`, averaged over columns.
/// A constant `y_true` column (SS_tot = 0) scores 1 if predicted exactly, else 0 (scikit-learn's
/// `force_finite=True`). R^2 can be negative: a model worse than predicting the mean.
template <class A, class B>
double r2_score(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred) {
  detail_reg::check_pair("metrics::r2_score", y_true, y_pred);
  const Eigen::MatrixXd t = y_true.template cast<double>();
  const Eigen::MatrixXd p = y_pred.template cast<double>();
  double total = 0.0;
  for (Index j = 0; j < t.cols(); ++j) {
    const double ss_res = (t.col(j) - p.col(j)).squaredNorm();
    const double ss_tot = (t.col(j).array() - t.col(j).mean()).matrix().squaredNorm();
    if (ss_tot == 0.0)
      total += ss_res == 0.0 ? 1.0 : 0.0;
    else
      total += 1.0 - ss_res / ss_tot;
  }
  return total / static_cast<double>(t.cols());
}

}  // namespace eigenml::metrics
