#pragma once
/// \file detail/logistic_loss.hpp
/// The logistic-regression objective, its gradient and its Hessian, over a block of rows:
///
///     F(W, b) = (1/m) sum_i loss_i + (lambda/2) ||W||_F^2
///
/// - binary (W: 1 x d, b: 1, y_i in {0, 1}): z_i = x_i . w + b,
///   loss_i = log(1 + exp(z_i)) - y_i z_i (= log(1 + exp(-s_i z_i)) with s_i = 2 y_i - 1);
/// - multinomial (W: K x d, b: K, y_i in 0..K-1): z_i = W x_i + b,
///   loss_i = logsumexp(z_i) - z_{i, y_i}.
///
/// With m = n and lambda = 1 / (C n) this is scikit-learn's objective 0.5 ||W||^2 + C sum loss_i
/// divided by C n; a mini-batch step uses the batch's m with the same lambda (unbiased). The
/// gradient is (with R = (P - Y) / m, P the probabilities, Y the one-hot targets):
///     dF/dW = R^T X + lambda W,    dF/db = R^T 1.
/// Every evaluation is whole-block matrix products; workspaces are members and only grow.

#include <Eigen/Core>

#include <algorithm>
#include <cmath>

#include "eigenml/core.hpp"
#include "eigenml/detail/minibatch.hpp"

namespace eigenml::detail {

template <class T>
class LogisticLoss {
 public:
  using ConstRef = Eigen::Ref<const Matrix<T>>;
  using MutRef = Eigen::Ref<Matrix<T>>;

  /// n_classes = 2: binary model (W has one row); otherwise multinomial with K = n_classes rows.
  explicit LogisticLoss(int n_classes = 2) : K_(n_classes) {}
  bool binary() const { return K_ == 2; }
  /// Rows of W: 1 (binary) or K.
  Index out_rows() const { return binary() ? 1 : K_; }

  /// F at (W, b) over the rows of X (m x d) with labels y (m); writes dF/dW (W's shape) and, when
  /// fit_intercept, dF/db (K' x 1) (left untouched otherwise; b must then be zero).
  T value_grad(const ConstRef& X, const Eigen::Ref<const Labels>& y, const ConstRef& W, const ConstRef& b,
               bool fit_intercept, T lambda, MutRef gW, MutRef gb) {
    const Index m = X.rows();
    const T inv_m = T(1) / static_cast<T>(m);
    reserve(m);
    auto R = R_.topRows(m);  // m x K': (P - Y) / m
    T data_loss;
    if (binary()) {
      // One pass over X in row chunks that stay in cache: each chunk's logits, probabilities,
      // residuals and its share of r^T X are computed while its rows are loaded, so X is read
      // from memory once per evaluation instead of twice (2 GEMVs, memory-bound).
      const Index d = X.cols(), chunk = cache_chunk_rows(d);
      const T b0 = fit_intercept ? b(0, 0) : T(0);
      auto g = gW.row(0);
      g.setZero();
      T sum_loss = T(0), sum_r = T(0);
      for (Index s = 0; s < m; s += chunk) {
        const Index c = std::min(chunk, m - s);
        const auto Xc = X.middleRows(s, c);
        auto z = Z_.col(0).segment(s, c);
        auto e = E_.col(0).segment(s, c);
        auto p = P_.col(0).segment(s, c);
        auto r = R_.col(0).segment(s, c);
        const auto yc = y.segment(s, c).template cast<T>().array();
        // z: c = X_c w^T + b
        z.noalias() = Xc * W.row(0).transpose();
        z.array() += b0;
        // e = exp(-|z|) never overflows; softplus(z) = max(z, 0) + log1p(e), and
        // sigmoid(z) = 1 / (1 + e) for z >= 0, e / (1 + e) otherwise, both at full precision.
        e.array() = (-z.array().abs()).exp();
        // log1p(e) without Eigen's scalar log1p (most of the step's time): with u = 1 + e rounded,
        // log1p(e) = log(u) * e / (u - 1) to a few ulps (Goldberg, "What every computer scientist
        // should know about floating-point arithmetic", 1991, Theorem 4); u == 1 means e < eps,
        // where log1p(e) = e to working precision. All of it vectorises.
        const auto u = T(1) + e.array();
        const auto l1p = (u == T(1)).select(e.array(), u.log() * (e.array() / (u - T(1))));
        // loss_i = softplus(z_i) - y_i z_i
        sum_loss += (z.array().max(T(0)) + l1p - yc * z.array()).sum();
        p.array() = (z.array() >= T(0)).select(T(1) / u, e.array() / u);
        // r: c = (p - y) / m
        r.array() = (p.array() - yc) * inv_m;
        sum_r += r.sum();
        // dF/dW: 1 x d += r_c^T X_c (a GEMV on the cached chunk)
        g.noalias() += r.transpose() * Xc;
      }
      data_loss = sum_loss * inv_m;
      if (lambda != T(0)) g += lambda * W.row(0);
      if (fit_intercept) gb(0, 0) = sum_r;
      const T penalty = lambda == T(0) ? T(0) : T(0.5) * lambda * W.squaredNorm();
      return data_loss + penalty;
    } else {
      auto Z = Z_.topRows(m);
      auto P = P_.topRows(m);
      auto mx = mx_.head(m);
      auto s = s_.head(m);
      // Z: m x K = X W^T + 1 b^T
      Z.noalias() = X * W.transpose();
      if (fit_intercept) Z.rowwise() += b.col(0).transpose();
      mx = Z.rowwise().maxCoeff();
      Z.colwise() -= mx;  // every row's maximum is now 0: exp cannot overflow, row sums in [1, K]
      P.array() = Z.array().exp();
      s = P.rowwise().sum();
      // loss_i = logsumexp(z_i) - z_{i,y_i} = log(s_i) - (shifted z)_{i,y_i}
      T sum_picked = T(0);
      for (Index i = 0; i < m; ++i) sum_picked += Z(i, y(i));
      data_loss = (s.array().log().sum() - sum_picked) * inv_m;
      P.array().colwise() /= s.array();
      R = P;
      for (Index i = 0; i < m; ++i) R(i, y(i)) -= T(1);
    }
    R *= inv_m;
    // dF/dW: K x d = R^T X + lambda W
    gW.noalias() = R.transpose() * X;
    if (lambda != T(0)) gW += lambda * W;
    // dF/db: K' x 1 = R^T 1
    if (fit_intercept) gb = R.colwise().sum().transpose();
    const T penalty = lambda == T(0) ? T(0) : T(0.5) * lambda * W.squaredNorm();
    return data_loss + penalty;
  }

  /// The Hessian of F at the point of the last value_grad (same X), for the packed parameters
  /// theta = [vec(W) row by row; b] (p = K' d + K' [fit_intercept]) into H (p x p, full).
  /// Binary: H = X~^T D X~ + lambda diag(1..1, 0), D = diag(p (1 - p)) / m, X~ = [X 1].
  /// Multinomial: block (k, l) = X~^T diag(p_k (delta_kl - p_l)) X~ / m (+ lambda I on W).
  void hessian(const ConstRef& X, bool fit_intercept, T lambda, Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& H) {
    const Index m = X.rows(), d = X.cols(), Kr = out_rows();
    const Index stride = d;  // parameters of class k: W row k at k*d; intercepts at Kr*d + k
    const Index p_count = Kr * d + (fit_intercept ? Kr : 0);
    H.setZero(p_count, p_count);
    const T inv_m = T(1) / static_cast<T>(m);
    if (Xw_.rows() < m || Xw_.cols() != d) Xw_.resize(std::max<Index>(m, Xw_.rows()), d);
    if (w_.size() < m) w_.resize(m);
    auto Xw = Xw_.topRows(m);
    auto w = w_.head(m);
    for (Index k = 0; k < Kr; ++k)
      for (Index l = k; l < Kr; ++l) {
        auto block = H.block(k * stride, l * stride, d, d);
        if (k == l) {
          // Diagonal block, weights p_k (1 - p_k) >= 0: with sw = sqrt(weights / m) and
          // Xw = diag(sw) X, the block is Xw^T Xw, a symmetric rank-m update (half a GEMM).
          const auto pk = P_.col(k).head(m).array();
          w = (pk * (T(1) - pk) * inv_m).sqrt();
          Xw = w.asDiagonal() * X;
          block.template selfadjointView<Eigen::Lower>().rankUpdate(Xw.transpose());
          for (Index j = 1; j < d; ++j)  // mirror the lower triangle
            for (Index i = 0; i < j; ++i) block(i, j) = block(j, i);
          if (fit_intercept) {
            const Index bk = Kr * d + k;
            // d^2 F / dW_k db_k = X^T (sw * sw) = Xw^T sw;  d^2 F / db_k^2 = sw^T sw
            H.block(k * stride, bk, d, 1).noalias() = Xw.transpose() * w;
            H(bk, bk) = w.squaredNorm();
          }
        } else {
          // Off-diagonal block (multinomial), weights -p_k p_l / m: X^T diag(w) X.
          w = -(P_.col(k).head(m).array() * P_.col(l).head(m).array()) * inv_m;
          Xw = w.asDiagonal() * X;
          block.noalias() = X.transpose() * Xw;
          H.block(l * stride, k * stride, d, d) = block.transpose();
          if (fit_intercept) {
            const Index bk = Kr * d + k, bl = Kr * d + l;
            H.block(k * stride, bl, d, 1).noalias() = Xw.colwise().sum().transpose();
            H.block(l * stride, bk, d, 1) = H.block(k * stride, bl, d, 1);
            H(bk, bl) = w.sum();
            H(bl, bk) = H(bk, bl);
          }
        }
      }
    if (fit_intercept) {
      // lower-left intercept rows mirror the upper-right columns
      const Index q = Kr * d;
      H.block(q, 0, Kr, q) = H.block(0, q, q, Kr).transpose();
    }
    if (lambda != T(0)) H.diagonal().head(Kr * d).array() += lambda;
  }

  /// Probabilities of the last evaluation (m x K' : binary holds P(y = 1)).
  auto probabilities(Index m) const { return P_.topRows(m); }

 private:
  void reserve(Index m) {
    const Index Kr = out_rows();
    if (Z_.rows() < m || Z_.cols() != Kr) {
      Z_.resize(m, Kr);
      E_.resize(m, Kr);
      P_.resize(m, Kr);
      R_.resize(m, Kr);
      mx_.resize(m);
      s_.resize(m);
    }
  }

  int K_;
  // Workspaces (grow only). Column-major: per-class columns are contiguous.
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> Z_, E_, P_, R_;
  Vector<T> mx_, s_, w_;
  Matrix<T> Xw_;
};

}  // namespace eigenml::detail
