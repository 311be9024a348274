#pragma once
/// \file linear_model/linear_regression.hpp
/// Ordinary least squares and ridge regression with scikit-learn's objective
///
///     L(w, b) = ||y - X w - b 1||^2 + alpha ||w||^2        (the intercept b is not penalised)
///
/// fitted exactly (see detail/least_squares.hpp: equilibrated Cholesky of the centred Gram matrix
/// with iterative refinement, falling back to a complete orthogonal decomposition of X when the
/// problem is ill-conditioned or rank-deficient, which yields the minimum-norm solution), or by
/// any `optim::Optimizer` on L / n.

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"
#include "eigenml/detail/least_squares.hpp"
#include "eigenml/detail/minibatch.hpp"
#include "eigenml/optim/optimizer.hpp"

namespace eigenml {

struct LinearRegressionOptions {
  bool fit_intercept = true;  ///< fit b (otherwise b = 0)
  double alpha = 0.0;         ///< ridge penalty on w (>= 0); the intercept is never penalised
};

template <class T>
class LinearRegression {
 public:
  using Options = LinearRegressionOptions;

  explicit LinearRegression(const Options& options = {}) : options_(options) {
    detail::require(std::isfinite(options.alpha) && options.alpha >= 0.0, "LinearRegression", "alpha",
                    "must be finite and >= 0, got " + std::to_string(options.alpha));
  }

  /// Exact fit: the minimiser of ||y - X w - b||^2 + alpha ||w||^2. X: n x d, y: n.
  /// For a rank-deficient X (alpha = 0) the minimum-norm w among all minimisers (numpy's lstsq
  /// on the centred data). Returns *this.
  template <class DX, class DY>
  LinearRegression& fit(const Eigen::MatrixBase<DX>& X, const Eigen::MatrixBase<DY>& y) {
    static_assert(std::is_same_v<typename DX::Scalar, T> && std::is_same_v<typename DY::Scalar, T>,
                  "LinearRegression<T>::fit: X and y must have scalar type T");
    const Eigen::Ref<const Matrix<T>> Xr(X.derived());
    const Eigen::Ref<const Vector<T>> yr(y.derived());
    // The finiteness of X and y is checked by the solver's Gram pass, which saves a separate pass
    // over each (~10 ms for X at 80 MB).
    detail::check_nonempty("LinearRegression::fit", "X", Xr);
    detail::check_rows("LinearRegression::fit", "X", Xr.rows(), "y", yr.rows());
    auto sol = detail::solve_least_squares<T>(Xr, yr, options_.fit_intercept, static_cast<T>(options_.alpha),
                                              "LinearRegression::fit");
    init_params(Xr.cols());
    coef_.value.col(0) = sol.coef;
    intercept_.value(0, 0) = sol.intercept;
    rank_ = sol.rank;
    used_cholesky_ = sol.used_cholesky;
    history_ = History{};
    return *this;
  }

  /// Iterative fit from w = 0, b = 0 with `opt`, minimising L / n = MSE + (alpha / n) ||w||^2 by
  /// `options.epochs` passes. Each step on a batch B of m rows uses
  ///     J_B = (1/m) sum_{i in B} r_i^2 + (alpha/n) ||w||^2,     r = X_B w + b - y_B,
  ///     dJ_B/dw = (2/m) X_B^T r + (2 alpha / n) w,              dJ_B/db = (2/m) sum_i r_i,
  /// an unbiased estimate of the full-batch gradient. `history().loss` holds the mean J_B of each
  /// epoch (measured before each step). Returns *this.
  template <class DX, class DY, class Opt>
  LinearRegression& fit(const Eigen::MatrixBase<DX>& X, const Eigen::MatrixBase<DY>& y, Opt& opt,
                        const TrainOptions& options) {
    static_assert(std::is_base_of_v<optim::Optimizer<T>, Opt>,
                  "LinearRegression<T>::fit: the optimizer must derive from optim::Optimizer<T>");
    static_assert(std::is_same_v<typename DX::Scalar, T> && std::is_same_v<typename DY::Scalar, T>,
                  "LinearRegression<T>::fit: X and y must have scalar type T");
    options.validate();
    const Eigen::Ref<const Matrix<T>> Xr(X.derived());
    const Eigen::Ref<const Vector<T>> yr(y.derived());
    check_data("LinearRegression::fit", Xr, yr);
    const Index n = Xr.rows(), d = Xr.cols();
    init_params(d);
    rank_ = -1;
    used_cholesky_ = false;
    history_ = History{};

    detail::MiniBatches batches(n, options);
    const Index B = batches.batch_rows();
    Matrix<T> Xb(batches.gathers() ? B : 0, d);  // gathered rows (shuffled mini-batches only)
    Vector<T> yb(batches.gathers() ? B : 0);
    Vector<T> r(B);  // residuals of one batch
    const T ridge = static_cast<T>(options_.alpha) / static_cast<T>(n);
    std::vector<Parameter<T>*> params{&coef_};
    if (options_.fit_intercept) params.push_back(&intercept_);

    for (int epoch = 0; epoch < options.epochs; ++epoch) {
      batches.start_epoch();
      double epoch_loss = 0.0;
      for (Index bi = 0; bi < batches.batches_per_epoch(); ++bi) {
        const Index m = batches.size(bi);
        if (batches.gathers()) {
          batches.gather(bi, Xr, Xb);
          batches.gather_vector(bi, yr, yb);
          epoch_loss += batch_step(Xb.topRows(m), yb.head(m), r.head(m), ridge);
        } else {
          const Index s = batches.begin(bi);
          epoch_loss += batch_step(Xr.middleRows(s, m), yr.segment(s, m), r.head(m), ridge);
        }
        opt.step(params);
      }
      history_.loss.push_back(epoch_loss / static_cast<double>(batches.batches_per_epoch()));
    }
    return *this;
  }

  /// X w + b for every row of X (n x d) -> n.
  template <class DX>
  Vector<T> predict(const Eigen::MatrixBase<DX>& X) const {
    require_fitted("LinearRegression::predict");
    detail::check_cols("LinearRegression::predict", "X", X, n_features());
    detail::check_finite("LinearRegression::predict", "X", X);
    Vector<T> out = X * coef_.value.col(0);
    out.array() += intercept_.value(0, 0);
    return out;
  }

  /// Coefficient of determination R^2 = 1 - SS_res / SS_tot (scikit-learn's `score`).
  template <class DX, class DY>
  double score(const Eigen::MatrixBase<DX>& X, const Eigen::MatrixBase<DY>& y) const {
    const Vector<T> p = predict(X);
    detail::check_rows("LinearRegression::score", "X", X.rows(), "y", y.rows());
    const Eigen::VectorXd yd = y.template cast<double>();
    const double ss_res = (yd - p.template cast<double>()).squaredNorm();
    const double ss_tot = (yd.array() - yd.mean()).matrix().squaredNorm();
    return ss_tot == 0.0 ? (ss_res == 0.0 ? 1.0 : 0.0) : 1.0 - ss_res / ss_tot;
  }

  /// w (d).
  Vector<T> coef() const { return coef_.value.col(0); }
  /// b (0 without an intercept).
  T intercept() const { return intercept_.value(0, 0); }

  /// Restores a fitted model (model files): coef w (d) and intercept b.
  void set_params(const Vector<T>& coef, T intercept) {
    detail::check_nonempty("LinearRegression::set_params", "coef", coef);
    detail::check_finite("LinearRegression::set_params", "coef", coef);
    if (!std::isfinite(static_cast<double>(intercept)))
      detail::fail("LinearRegression::set_params", "intercept is not finite");
    init_params(coef.size());
    coef_.value.col(0) = coef;
    intercept_.value(0, 0) = options_.fit_intercept ? intercept : T(0);
    history_ = History{};
  }

  const Options& options() const { return options_; }
  bool is_fitted() const { return coef_.value.size() > 0; }
  Index n_features() const { return coef_.value.rows(); }
  /// Loss per epoch of the last iterative fit (empty after an exact fit).
  const History& history() const { return history_; }
  /// Numerical rank of the centred X found by the last exact fit (-1 after an iterative fit).
  Index rank() const { return rank_; }
  /// Whether the last exact fit took the Cholesky path (false: complete orthogonal decomposition).
  bool used_cholesky() const { return used_cholesky_; }

  /// The trainable parameters: w (d x 1) and b (1 x 1), as the iterative fit passes them to the
  /// optimizer.
  std::vector<Parameter<T>*> parameters() { return {&coef_, &intercept_}; }

 private:
  template <class A, class B>
  void check_data(const char* where, const A& X, const B& y) const {
    detail::check_nonempty(where, "X", X);
    detail::check_rows(where, "X", X.rows(), "y", y.rows());
    detail::check_finite(where, "X", X);
    detail::check_finite(where, "y", y);
  }

  void require_fitted(const char* where) const {
    if (!is_fitted()) detail::fail(where, "the model is not fitted (call fit or set_params first)");
  }

  void init_params(Index d) {
    if (coef_.value.rows() != d || coef_.value.cols() != 1) coef_ = Parameter<T>(d, 1);
    coef_.value.setZero();
    coef_.grad.setZero();
    if (intercept_.value.size() != 1) intercept_ = Parameter<T>(1, 1);
    intercept_.value.setZero();
    intercept_.grad.setZero();
  }

  // Loss of one batch; writes the batch gradient into the parameters' grad.
  // One pass over X_B in row chunks small enough to stay in cache: each chunk's residuals and
  // its share of X_B^T r are computed while its rows are loaded, so X_B is read from memory once
  // per step instead of twice (the step is memory-bound: 2 flops per loaded value).
  template <class XB, class YB, class RB>
  double batch_step(const XB& Xb, const YB& yb, RB&& r, T ridge) {
    const Index rows = Xb.rows(), d = Xb.cols();
    const T m = static_cast<T>(rows);
    const Index chunk = detail::cache_chunk_rows(d);
    auto g = coef_.grad.col(0);
    g.setZero();
    T sum_sq = T(0), sum_r = T(0);
    for (Index s = 0; s < rows; s += chunk) {
      const Index c = std::min(chunk, rows - s);
      const auto Xc = Xb.middleRows(s, c);
      auto rc = r.segment(s, c);
      // r_c: c = X_c w + b - y_c
      rc.noalias() = Xc * coef_.value.col(0);
      rc.array() += intercept_.value(0, 0) - yb.segment(s, c).array();
      sum_sq += rc.squaredNorm();
      sum_r += rc.sum();
      // X_B^T r accumulated chunk by chunk: d x 1 += X_c^T r_c
      g.noalias() += Xc.transpose() * rc;
    }
    const double loss = static_cast<double>(sum_sq / m + ridge * coef_.value.squaredNorm());
    // dJ/dw: d x 1 = (2/m) X_B^T r + 2 (alpha/n) w
    g *= T(2) / m;
    g += (T(2) * ridge) * coef_.value.col(0);
    // dJ/db = (2/m) sum r
    intercept_.grad(0, 0) = options_.fit_intercept ? T(2) * sum_r / m : T(0);
    return loss;
  }

  Options options_;
  Parameter<T> coef_;       // d x 1
  Parameter<T> intercept_;  // 1 x 1
  Index rank_ = -1;
  bool used_cholesky_ = false;
  History history_;
};

}  // namespace eigenml
