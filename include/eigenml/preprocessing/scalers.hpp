#pragma once
/// \file preprocessing/scalers.hpp
/// Per-feature affine scalers with scikit-learn's definitions: StandardScaler (zero mean, unit
/// population variance) and MinMaxScaler (a fixed output range). Fit on the training rows only,
/// then transform training and test rows with the same statistics:
///
/// ```cpp
/// preprocessing::StandardScaler<double> scaler;
/// Matrix<double> Z_train = scaler.fit_transform(X_train);
/// Matrix<double> Z_test = scaler.transform(X_test);
/// ```
/// Statistics are accumulated in double (two passes) and stored as T.

#include <Eigen/Core>

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"

namespace eigenml::preprocessing {

namespace detail_scalers {

/// What transform and inverse_transform require: a fitted scaler, `n_features` columns, finite values.
template <class Derived>
void check_input(const char* where, bool fitted, Index n_features, const Eigen::MatrixBase<Derived>& X) {
  if (!fitted) detail::fail(where, "the scaler is not fitted; call fit first");
  detail::check_cols(where, "X", X, n_features);
  detail::check_finite(where, "X", X);
}

}  // namespace detail_scalers

/// Options of StandardScaler.
struct StandardScalerOptions {
  bool with_mean = true;  ///< subtract the feature means
  bool with_std = true;   ///< divide by the feature standard deviations
};

/// Standardises each feature: `z = (x - mean) / scale`, with `mean` the feature mean and `scale`
/// its population standard deviation `sqrt((1/n) sum (x - mean)^2)` (ddof = 0, as scikit-learn).
/// A constant feature (variance within rounding of zero, scikit-learn's test
/// `var <= n eps var + (n eps mean)^2`) gets scale 1, so it is centred but never divided by ~0.
/// `with_mean = false` leaves the mean in (`z = x / scale`); `with_std = false` sets every scale to 1.
/// `mean()` always holds the fitted feature means.
template <class T>
class StandardScaler {
  static_assert(std::is_floating_point_v<T>, "StandardScaler<T>: T must be float or double");

 public:
  using Options = StandardScalerOptions;

  explicit StandardScaler(const Options& options = {}) : options_(options) {}

  /// Learns the per-feature mean and scale from `X` (n x d, n >= 1, finite).
  template <class Derived>
  StandardScaler& fit(const Eigen::MatrixBase<Derived>& X) {
    constexpr const char* where = "StandardScaler::fit";
    detail::check_nonempty(where, "X", X);
    detail::check_finite(where, "X", X);
    const Eigen::MatrixXd Xd = X.template cast<double>();
    const auto n = static_cast<double>(Xd.rows());
    const Eigen::RowVectorXd mu = Xd.colwise().mean();
    // Two-pass variance: no cancellation for features with a large mean.
    const Eigen::RowVectorXd var = (Xd.rowwise() - mu).array().square().colwise().sum().matrix() / n;
    constexpr double eps = std::numeric_limits<double>::epsilon();
    mean_ = mu.transpose().cast<T>();
    var_ = var.transpose().cast<T>();
    scale_.resize(Xd.cols());
    for (Index j = 0; j < Xd.cols(); ++j) {
      const bool constant = var(j) <= n * eps * var(j) + (n * mu(j) * eps) * (n * mu(j) * eps);
      scale_(j) = options_.with_std && !constant ? static_cast<T>(std::sqrt(var(j))) : T(1);
    }
    return *this;
  }

  /// `(X - mean) / scale` row by row (n x d, d as in fit).
  template <class Derived>
  Matrix<T> transform(const Eigen::MatrixBase<Derived>& X) const {
    detail_scalers::check_input("StandardScaler::transform", fitted(), n_features(), X);
    Matrix<T> Z = X.template cast<T>();
    if (options_.with_mean) Z.rowwise() -= mean_.transpose();
    Z.array().rowwise() /= scale_.transpose().array();
    return Z;
  }

  /// fit(X) then transform(X).
  template <class Derived>
  Matrix<T> fit_transform(const Eigen::MatrixBase<Derived>& X) {
    return fit(X).transform(X);
  }

  /// Undoes transform: `Z * scale + mean`.
  template <class Derived>
  Matrix<T> inverse_transform(const Eigen::MatrixBase<Derived>& Z) const {
    detail_scalers::check_input("StandardScaler::inverse_transform", fitted(), n_features(), Z);
    Matrix<T> X = Z.template cast<T>();
    X.array().rowwise() *= scale_.transpose().array();
    if (options_.with_mean) X.rowwise() += mean_.transpose();
    return X;
  }

  bool fitted() const { return mean_.size() > 0; }
  Index n_features() const { return mean_.size(); }
  const Vector<T>& mean() const { return mean_; }    ///< d feature means
  const Vector<T>& var() const { return var_; }      ///< d population variances
  const Vector<T>& scale() const { return scale_; }  ///< d divisors (std, or 1 for constant features / with_std = false)
  const Options& options() const { return options_; }

 private:
  Options options_;
  Vector<T> mean_, var_, scale_;
};

/// Options of MinMaxScaler.
struct MinMaxScalerOptions {
  std::pair<double, double> feature_range = {0.0, 1.0};  ///< (min, max) of the output, min < max
  bool clip = false;  ///< clip transformed values to feature_range (for test rows outside the fitted range)
};

/// Maps each feature linearly so its fitted minimum goes to `feature_range.first` and its maximum
/// to `feature_range.second`: `z = x * scale + min` with `scale = (hi - lo) / (data_max - data_min)`
/// and `min = lo - data_min * scale`. A constant feature (range below 10 machine epsilons) uses
/// a data range of 1, so it maps to `lo`, as scikit-learn.
template <class T>
class MinMaxScaler {
  static_assert(std::is_floating_point_v<T>, "MinMaxScaler<T>: T must be float or double");

 public:
  using Options = MinMaxScalerOptions;

  explicit MinMaxScaler(const Options& options = {}) : options_(options) {
    const auto [lo, hi] = options.feature_range;
    detail::require(std::isfinite(lo) && std::isfinite(hi) && lo < hi, "MinMaxScaler", "feature_range",
                    "must be finite with first < second, got (" + std::to_string(lo) + ", " + std::to_string(hi) + ")");
  }

  /// Learns the per-feature minimum and maximum of `X` (n x d, n >= 1, finite).
  template <class Derived>
  MinMaxScaler& fit(const Eigen::MatrixBase<Derived>& X) {
    constexpr const char* where = "MinMaxScaler::fit";
    detail::check_nonempty(where, "X", X);
    detail::check_finite(where, "X", X);
    const Eigen::MatrixXd Xd = X.template cast<double>();
    const Eigen::RowVectorXd lo = Xd.colwise().minCoeff(), hi = Xd.colwise().maxCoeff();
    const auto [out_lo, out_hi] = options_.feature_range;
    data_min_ = lo.transpose().cast<T>();
    data_max_ = hi.transpose().cast<T>();
    scale_.resize(Xd.cols());
    min_.resize(Xd.cols());
    for (Index j = 0; j < Xd.cols(); ++j) {
      double range = hi(j) - lo(j);
      if (range < 10 * std::numeric_limits<double>::epsilon()) range = 1.0;
      const double s = (out_hi - out_lo) / range;
      scale_(j) = static_cast<T>(s);
      min_(j) = static_cast<T>(out_lo - lo(j) * s);
    }
    return *this;
  }

  /// `X * scale + min` row by row (clipped to feature_range with `clip`).
  template <class Derived>
  Matrix<T> transform(const Eigen::MatrixBase<Derived>& X) const {
    detail_scalers::check_input("MinMaxScaler::transform", fitted(), n_features(), X);
    Matrix<T> Z = X.template cast<T>();
    Z.array().rowwise() *= scale_.transpose().array();
    Z.rowwise() += min_.transpose();
    if (options_.clip)
      Z = Z.cwiseMax(static_cast<T>(options_.feature_range.first)).cwiseMin(static_cast<T>(options_.feature_range.second));
    return Z;
  }

  template <class Derived>
  Matrix<T> fit_transform(const Eigen::MatrixBase<Derived>& X) {
    return fit(X).transform(X);
  }

  /// Undoes transform: `(Z - min) / scale`.
  template <class Derived>
  Matrix<T> inverse_transform(const Eigen::MatrixBase<Derived>& Z) const {
    detail_scalers::check_input("MinMaxScaler::inverse_transform", fitted(), n_features(), Z);
    Matrix<T> X = Z.template cast<T>();
    X.rowwise() -= min_.transpose();
    X.array().rowwise() /= scale_.transpose().array();
    return X;
  }

  bool fitted() const { return scale_.size() > 0; }
  Index n_features() const { return scale_.size(); }
  const Vector<T>& data_min() const { return data_min_; }
  const Vector<T>& data_max() const { return data_max_; }
  const Vector<T>& scale() const { return scale_; }  ///< d multipliers
  const Vector<T>& min() const { return min_; }      ///< d offsets added after scaling
  const Options& options() const { return options_; }

 private:
  Options options_;
  Vector<T> data_min_, data_max_, scale_, min_;
};

}  // namespace eigenml::preprocessing
