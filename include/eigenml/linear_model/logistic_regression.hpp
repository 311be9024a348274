#pragma once
/// \file linear_model/logistic_regression.hpp
/// Binary and multinomial (softmax) logistic regression with scikit-learn's objective
///
///     f(W, b) = 0.5 ||W||_F^2 + C sum_i loss_i          (the intercepts b are not penalised)
///
/// (loss_i: the log-loss of sample i, see detail/logistic_loss.hpp). `C = infinity` drops the
/// penalty. Labels 0..K-1 with K = max label + 1: K = 2 fits a binary model (one row of W,
/// sigmoid), K > 2 a multinomial one (K rows, softmax).
///
/// The exact fit minimises F = f / (C n) = (1/n) sum loss_i + ||W||^2 / (2 C n) until the max-norm
/// of grad F is below `tol` (1e-10): by damped Newton with an exact Hessian while the parameter
/// count K' (d + 1) is at most `newton_max_params`, by L-BFGS beyond. The iterative fit runs any
/// `optim::Optimizer` on F (mini-batch steps: batch mean loss + ||W||^2 / (2 C n)).

#include <Eigen/Core>

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"
#include "eigenml/detail/logistic_loss.hpp"
#include "eigenml/detail/minibatch.hpp"
#include "eigenml/detail/smooth_minimize.hpp"
#include "eigenml/optim/optimizer.hpp"

namespace eigenml {

enum class LogisticSolver {
  automatic,  ///< Newton while K'(d+1) <= newton_max_params, else L-BFGS
  newton,     ///< damped Newton with the exact Hessian (p x p memory, n p^2 work per iteration)
  lbfgs,      ///< L-BFGS (memory 10)
};

struct LogisticRegressionOptions {
  bool fit_intercept = true;  ///< fit b (otherwise b = 0)
  /// Inverse penalty strength (> 0); std::numeric_limits<double>::infinity() = no penalty.
  double C = 1.0;
  double tol = 1e-10;      ///< exact fit: stop when max |grad F| < tol (F = f / (C n))
  int max_iter = 1000;     ///< exact fit: iteration limit
  LogisticSolver solver = LogisticSolver::automatic;
  int newton_max_params = 512;  ///< automatic solver: Newton up to this many parameters
};

template <class T>
class LogisticRegression {
 public:
  using Options = LogisticRegressionOptions;

  explicit LogisticRegression(const Options& options = {}) : options_(options) {
    const char* where = "LogisticRegression";
    detail::require(options.C > 0.0 && !std::isnan(options.C), where, "C",
                    "must be > 0 (infinity = no penalty), got " + std::to_string(options.C));
    detail::require(options.tol > 0.0 && std::isfinite(options.tol), where, "tol",
                    "must be finite and > 0, got " + std::to_string(options.tol));
    detail::require(options.max_iter >= 0, where, "max_iter", "must be >= 0, got " + std::to_string(options.max_iter));
    detail::require(options.newton_max_params >= 1, where, "newton_max_params",
                    "must be >= 1, got " + std::to_string(options.newton_max_params));
  }

  /// Exact fit of X (n x d) to labels (n, in 0..K-1). Returns *this. Check `converged()`:
  /// without a penalty, separable data has no finite optimum; the fit then stops with finite
  /// coefficients and `converged() == false`.
  template <class DX>
  LogisticRegression& fit(const Eigen::MatrixBase<DX>& X, const Labels& y) {
    static_assert(std::is_same_v<typename DX::Scalar, T>, "LogisticRegression<T>::fit: X must have scalar type T");
    const Eigen::Ref<const Matrix<T>> Xr(X.derived());
    const int K = check_data("LogisticRegression::fit", Xr, y);
    const Index n = Xr.rows(), d = Xr.cols();
    init_params(K, d);
    history_ = History{};
    loss_ = detail::LogisticLoss<T>(K);
    const Index Kr = loss_.out_rows();
    const Index n_params = Kr * d + (options_.fit_intercept ? Kr : 0);
    const T lambda = penalty_per_sample(n);

    ExactProblem problem{*this, Xr, y, lambda, d, Kr, Matrix<T>::Zero(Kr, 1)};
    Vector<T> theta = Vector<T>::Zero(n_params);
    // The tolerance cannot go below what T can resolve in a gradient of O(1) terms.
    const T tol = std::max(static_cast<T>(options_.tol), T(1000) * std::numeric_limits<T>::epsilon());
    const bool newton = options_.solver == LogisticSolver::newton ||
                        (options_.solver == LogisticSolver::automatic && n_params <= options_.newton_max_params);
    const auto res = newton ? detail::newton_minimize<T>(problem, theta, tol, options_.max_iter)
                            : detail::lbfgs_minimize<T>(problem, theta, tol, options_.max_iter);
    n_iter_ = res.iterations;
    objective_ = res.f;
    grad_max_ = res.grad_max;
    used_newton_ = newton;

    coef_.value = Eigen::Map<const Matrix<T>>(theta.data(), Kr, d);
    if (options_.fit_intercept) intercept_.value.col(0) = theta.segment(Kr * d, Kr);
    centre_intercepts();
    separable_ = std::isinf(options_.C) && separates(Xr, y);
    // Without a penalty, a perfectly separating model has no finite optimum: whatever point the
    // solver stopped at (the gradient vanishes as ||W|| grows) is not a minimiser.
    converged_ = res.converged && !separable_;
    return *this;
  }

  /// Iterative fit from W = 0, b = 0 with `opt`, minimising F = (1/n) sum loss_i + ||W||^2/(2 C n)
  /// by `options.epochs` passes. A step on a batch of m rows uses the batch mean loss plus the
  /// same penalty, with gradient dF/dW = R^T X_B + W/(C n), dF/db = R^T 1, R = (P - Y)/m.
  /// `history().loss` holds the mean batch objective of each epoch (before each step).
  template <class DX, class Opt>
  LogisticRegression& fit(const Eigen::MatrixBase<DX>& X, const Labels& y, Opt& opt, const TrainOptions& options) {
    static_assert(std::is_base_of_v<optim::Optimizer<T>, Opt>,
                  "LogisticRegression<T>::fit: the optimizer must derive from optim::Optimizer<T>");
    static_assert(std::is_same_v<typename DX::Scalar, T>, "LogisticRegression<T>::fit: X must have scalar type T");
    options.validate();
    const Eigen::Ref<const Matrix<T>> Xr(X.derived());
    const int K = check_data("LogisticRegression::fit", Xr, y);
    const Index n = Xr.rows(), d = Xr.cols();
    init_params(K, d);
    history_ = History{};
    loss_ = detail::LogisticLoss<T>(K);
    n_iter_ = 0;
    converged_ = false;
    separable_ = false;
    used_newton_ = false;
    const T lambda = penalty_per_sample(n);

    // The epoch losses are only reported (history), so they are summed to eps per sample
    // absolute rather than to a few ulps of the loss (detail::LossValue).
    detail::MiniBatches batches(n, options);
    const Index B = batches.batch_rows();
    Matrix<T> Xb(batches.gathers() ? B : 0, d);
    Labels yb(batches.gathers() ? B : 0);
    std::vector<Parameter<T>*> params{&coef_};
    if (options_.fit_intercept) params.push_back(&intercept_);
    const bool fi = options_.fit_intercept;

    for (int epoch = 0; epoch < options.epochs; ++epoch) {
      batches.start_epoch();
      double epoch_loss = 0.0;
      for (Index bi = 0; bi < batches.batches_per_epoch(); ++bi) {
        const Index m = batches.size(bi);
        T f;
        if (batches.gathers()) {
          batches.gather(bi, Xr, Xb);
          batches.gather_vector(bi, y, yb);
          f = loss_.value_grad(Xb.topRows(m), yb.head(m), coef_.value, intercept_.value, fi, lambda, coef_.grad,
                               intercept_.grad, detail::LossValue::report);
        } else {
          const Index s = batches.begin(bi);
          f = loss_.value_grad(Xr.middleRows(s, m), y.segment(s, m), coef_.value, intercept_.value, fi, lambda,
                               coef_.grad, intercept_.grad, detail::LossValue::report);
        }
        epoch_loss += static_cast<double>(f);
        opt.step(params);
      }
      history_.loss.push_back(epoch_loss / static_cast<double>(batches.batches_per_epoch()));
    }
    centre_intercepts();
    return *this;
  }

  /// Logits: n x 1 (binary, x.w + b) or n x K (multinomial, W x + b).
  template <class DX>
  Matrix<T> decision_function(const Eigen::MatrixBase<DX>& X) const {
    require_fitted("LogisticRegression::decision_function");
    detail::check_cols("LogisticRegression::decision_function", "X", X, n_features());
    detail::check_finite("LogisticRegression::decision_function", "X", X);
    Matrix<T> Z = X * coef_.value.transpose();
    Z.rowwise() += intercept_.value.col(0).transpose();
    return Z;
  }

  /// Class probabilities n x K (K = 2 for binary: [1 - p, p]); rows sum to 1.
  template <class DX>
  Matrix<T> predict_proba(const Eigen::MatrixBase<DX>& X) const {
    const Matrix<T> Z = decision_function(X);
    Matrix<T> P(Z.rows(), n_classes_);
    if (n_classes_ == 2) {
      // e = exp(-|z|): P(1) = 1/(1+e) (z >= 0) or e/(1+e), without overflow
      const Eigen::Array<T, Eigen::Dynamic, 1> z = Z.col(0).array();
      const Eigen::Array<T, Eigen::Dynamic, 1> e = (-z.abs()).exp();
      const Eigen::Array<T, Eigen::Dynamic, 1> p1 = (z >= T(0)).select(T(1) / (T(1) + e), e / (T(1) + e));
      const Eigen::Array<T, Eigen::Dynamic, 1> p0 = (z >= T(0)).select(e / (T(1) + e), T(1) / (T(1) + e));
      P.col(0) = p0.matrix();
      P.col(1) = p1.matrix();
    } else {
      const Vector<T> mx = Z.rowwise().maxCoeff();
      P.array() = (Z.array().colwise() - mx.array()).exp();
      const Vector<T> s = P.rowwise().sum();
      P.array().colwise() /= s.array();
    }
    return P;
  }

  /// Most probable class of each row (ties: the lowest index).
  template <class DX>
  Labels predict(const Eigen::MatrixBase<DX>& X) const {
    const Matrix<T> Z = decision_function(X);
    Labels out(Z.rows());
    for (Index i = 0; i < Z.rows(); ++i) {
      if (n_classes_ == 2) {
        out(i) = Z(i, 0) > T(0) ? 1 : 0;
      } else {
        Index k;
        Z.row(i).maxCoeff(&k);
        out(i) = static_cast<int>(k);
      }
    }
    return out;
  }

  /// Accuracy of predict(X) against y.
  template <class DX>
  double score(const Eigen::MatrixBase<DX>& X, const Labels& y) const {
    const Labels p = predict(X);
    detail::check_rows("LogisticRegression::score", "X", X.rows(), "y", y.rows());
    return static_cast<double>((p.array() == y.array()).count()) / static_cast<double>(y.size());
  }

  /// Scaled objective F = (1/n) sum loss_i + ||W||^2 / (2 C n) of the current parameters on (X, y).
  template <class DX>
  T objective(const Eigen::MatrixBase<DX>& X, const Labels& y) const {
    Matrix<T> gW;
    Matrix<T> gb;
    return objective_and_gradient(X, y, gW, gb);
  }

  /// F as in objective() and its gradient: gW (coef's shape), gb (K' x 1, zero without intercept).
  template <class DX>
  T objective_and_gradient(const Eigen::MatrixBase<DX>& X, const Labels& y, Matrix<T>& gW, Matrix<T>& gb) const {
    require_fitted("LogisticRegression::objective");
    const Eigen::Ref<const Matrix<T>> Xr(X.derived());
    check_data("LogisticRegression::objective", Xr, y, n_classes_);
    detail::check_cols("LogisticRegression::objective", "X", Xr, n_features());
    detail::LogisticLoss<T> loss(n_classes_);
    gW.setZero(coef_.value.rows(), coef_.value.cols());
    gb.setZero(coef_.value.rows(), 1);
    Matrix<T> b = intercept_.value;
    if (!options_.fit_intercept) b.setZero();
    return loss.value_grad(Xr, y, coef_.value, b, options_.fit_intercept, penalty_per_sample(Xr.rows()), gW, gb);
  }

  /// W: 1 x d (binary) or K x d (multinomial).
  Matrix<T> coef() const { return coef_.value; }
  /// b: 1 (binary) or K values (multinomial, centred to sum to zero).
  Vector<T> intercept() const { return intercept_.value.col(0); }

  /// Restores a fitted model (model files): coef 1 x d (binary) or K x d (K >= 3), intercept with
  /// as many values as coef has rows.
  void set_params(const Matrix<T>& coef, const Vector<T>& intercept) {
    const char* where = "LogisticRegression::set_params";
    detail::check_nonempty(where, "coef", coef);
    detail::check_finite(where, "coef", coef);
    detail::check_finite(where, "intercept", intercept);
    if (coef.rows() == 2) detail::fail(where, "coef has 2 rows: a binary model has one row (1 x d)");
    if (intercept.size() != coef.rows())
      detail::fail(where, "intercept has " + std::to_string(intercept.size()) + " values but coef has shape " +
                              detail::shape_of(coef) + " (one intercept per row)");
    init_params(coef.rows() == 1 ? 2 : static_cast<int>(coef.rows()), coef.cols());
    coef_.value = coef;
    intercept_.value.col(0) = options_.fit_intercept ? intercept : Vector<T>::Zero(intercept.size());
    history_ = History{};
  }

  const Options& options() const { return options_; }
  bool is_fitted() const { return coef_.value.size() > 0; }
  Index n_features() const { return coef_.value.cols(); }
  /// K (2 for a binary model).
  int n_classes() const { return n_classes_; }
  /// Iterations of the last exact fit (Newton or L-BFGS steps; 0 after an iterative fit).
  int n_iter() const { return n_iter_; }
  /// Whether the last exact fit reached the gradient tolerance at a true optimum (false after
  /// an iterative fit, and for separable data without penalty).
  bool converged() const { return converged_; }
  /// Whether the last exact fit ended with an unpenalised model that separates the classes.
  bool separable() const { return separable_; }
  /// F and max |grad F| at the end of the last exact fit.
  T final_objective() const { return objective_; }
  T final_gradient_max() const { return grad_max_; }
  bool used_newton() const { return used_newton_; }
  const History& history() const { return history_; }
  /// The trainable parameters: W (K' x d) and b (K' x 1).
  std::vector<Parameter<T>*> parameters() { return {&coef_, &intercept_}; }

 private:
  // The exact fit's view of F over the packed parameters theta = [vec(W) row by row; b].
  struct ExactProblem {
    LogisticRegression& model;
    const Eigen::Ref<const Matrix<T>>& X;
    const Labels& y;
    T lambda;
    Index d, Kr;
    Matrix<T> zero_b;  // b (and a scratch gradient) without an intercept

    T value_grad(const Vector<T>& theta, Vector<T>& g) {
      const bool fi = model.options_.fit_intercept;
      const Eigen::Map<const Matrix<T>> W(theta.data(), Kr, d);
      Eigen::Map<Matrix<T>> gW(g.data(), Kr, d);
      if (fi) {
        const Eigen::Map<const Matrix<T>> b(theta.data() + Kr * d, Kr, 1);
        Eigen::Map<Matrix<T>> gb(g.data() + Kr * d, Kr, 1);
        return model.loss_.value_grad(X, y, W, b, true, lambda, gW, gb);
      }
      return model.loss_.value_grad(X, y, W, zero_b, false, lambda, gW, zero_b);
    }

    void hessian(Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& H) {
      const bool fi = model.options_.fit_intercept;
      model.loss_.hessian(X, fi, lambda, H);
      if (Kr == 1) return;
      // Softmax is unchanged by adding one constant to every class's intercept (and, without a
      // penalty, one vector to every row of W): H is singular along those directions u while the
      // gradient is orthogonal to them. Adding c u u^T makes H definite without changing the
      // Newton step's component orthogonal to u (and gives it none along u).
      const T c = H.diagonal().cwiseAbs().maxCoeff() / static_cast<T>(Kr);
      const auto add_null = [&](Index first, Index stride) {
        for (Index k = 0; k < Kr; ++k)
          for (Index l = 0; l < Kr; ++l) H(first + k * stride, first + l * stride) += c;
      };
      if (fi) add_null(Kr * d, 1);
      if (lambda == T(0))
        for (Index j = 0; j < d; ++j) add_null(j, d);
    }
  };

  T penalty_per_sample(Index n) const {
    return std::isinf(options_.C) ? T(0) : static_cast<T>(1.0 / (options_.C * static_cast<double>(n)));
  }

  // Validates X and y; returns K = max label + 1 (or checks against `expected_K` when given).
  template <class A>
  int check_data(const char* where, const A& X, const Labels& y, int expected_K = 0) const {
    detail::check_nonempty(where, "X", X);
    detail::check_rows(where, "X", X.rows(), "labels", y.rows());
    detail::check_finite(where, "X", X);
    if (expected_K > 0) {
      detail::check_labels(where, y, expected_K);
      return expected_K;
    }
    const int min_label = y.minCoeff(), max_label = y.maxCoeff();
    if (min_label < 0)
      detail::fail(where, "labels must lie in 0..K-1, found " + std::to_string(min_label));
    if (min_label == max_label)
      detail::fail(where, "labels hold a single class (" + std::to_string(min_label) +
                              "): a classifier needs at least two classes");
    return max_label + 1;
  }

  void require_fitted(const char* where) const {
    if (!is_fitted()) detail::fail(where, "the model is not fitted (call fit or set_params first)");
  }

  void init_params(int K, Index d) {
    n_classes_ = K;
    const Index Kr = K == 2 ? 1 : K;
    if (coef_.value.rows() != Kr || coef_.value.cols() != d) coef_ = Parameter<T>(Kr, d);
    if (intercept_.value.rows() != Kr) intercept_ = Parameter<T>(Kr, 1);
    coef_.value.setZero();
    coef_.grad.setZero();
    intercept_.value.setZero();
    intercept_.grad.setZero();
  }

  void centre_intercepts() {
    if (n_classes_ > 2 && options_.fit_intercept) intercept_.value.array() -= intercept_.value.mean();
  }

  // True when every sample's own class scores strictly highest (the unpenalised loss can then be
  // driven to 0 by scaling W and b up: no finite optimum).
  bool separates(const Eigen::Ref<const Matrix<T>>& X, const Labels& y) const {
    const Matrix<T> Z = decision_function(X);
    for (Index i = 0; i < Z.rows(); ++i) {
      if (n_classes_ == 2) {
        if (!(y(i) == 1 ? Z(i, 0) > T(0) : Z(i, 0) < T(0))) return false;
      } else {
        const T own = Z(i, y(i));
        for (Index k = 0; k < Z.cols(); ++k)
          if (k != y(i) && !(Z(i, k) < own)) return false;
      }
    }
    return true;
  }

  Options options_;
  int n_classes_ = 0;
  Parameter<T> coef_;       // K' x d
  Parameter<T> intercept_;  // K' x 1
  detail::LogisticLoss<T> loss_;
  int n_iter_ = 0;
  bool converged_ = false;
  bool separable_ = false;
  bool used_newton_ = false;
  T objective_ = T(0);
  T grad_max_ = T(0);
  History history_;
};

}  // namespace eigenml
