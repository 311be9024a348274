#pragma once
/// \file detail/least_squares.hpp
/// The exact solver behind `LinearRegression::fit`: ridge-regularised least squares
///
///     min_w ||Xc w - yc||^2 + alpha ||w||^2,   Xc = X - 1 mu^T,  yc = y - ybar,
///
/// where mu and ybar are the column means (zero without an intercept). The intercept is then
/// ybar - mu^T w, so it is never penalised.
///
/// Method (fast path): the Gram matrix G = X^T X is formed by one symmetric rank-n update (half
/// the flops of a general product) and centred algebraically, Gc = G - n mu mu^T; when that
/// subtraction would lose more than 4 digits (means large relative to the spread) Gc is instead
/// accumulated from row chunks centred explicitly in a cache-sized buffer. Gc + alpha I is then
/// equilibrated (unit diagonal) and Cholesky-factorised. The Cholesky solution of the normal
/// equations has error ~ cond(X)^2 eps, so it is improved by iterative refinement on the true
/// residual (r = yc - Xc w, solve Gc dw = Xc^T r - alpha w), each step one pass over X (chunked so
/// X w and X^T r share the pass); one step brings a well-conditioned problem to rounding level,
/// and a step is repeated (up to 3) only while the correction is above cond * rounding.
/// Fallback: when G is not numerically positive definite or its reciprocal condition number is
/// below sqrt(eps) (cond(X) above ~1e4 in double, ~60 in float) the problem is solved by a
/// complete orthogonal decomposition (column-pivoted QR + RZ) of the centred X itself, which
/// gives the minimum-norm least-squares solution for a rank-deficient X, as numpy's lstsq does.
/// With alpha > 0 the fallback factorises [Xc; sqrt(alpha) I].

#include <Eigen/Cholesky>
#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "eigenml/core.hpp"

namespace eigenml::detail {

template <class T>
struct LeastSquaresSolution {
  Vector<T> coef;              // d
  T intercept = T(0);
  Index rank = 0;              // numerical rank of Xc (d on the Cholesky path)
  bool used_cholesky = false;  // false: complete orthogonal decomposition
  int refinement_steps = 0;
};

/// Rows per chunk so one centred chunk (rows x d) stays around 256 KiB (in L2).
inline Index least_squares_chunk_rows(Index d) {
  return std::max<Index>(64, (Index(256) * 1024) / (Index(sizeof(double)) * std::max<Index>(d, 1)));
}

/// Solves the (ridge) least-squares problem above for X (n x d), y (n).
template <class T>
LeastSquaresSolution<T> solve_least_squares(const Eigen::Ref<const Matrix<T>>& X, const Eigen::Ref<const Vector<T>>& y,
                                            bool fit_intercept, T alpha) {
  using ColMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  const Index n = X.rows(), d = X.cols();
  const T eps = std::numeric_limits<T>::epsilon();

  const Index chunk = std::min(n, least_squares_chunk_rows(d));
  Vector<T> rb(chunk);  // chunk of ones, centred targets or residuals
  Eigen::Matrix<T, 1, Eigen::Dynamic> mu = Eigen::Matrix<T, 1, Eigen::Dynamic>::Zero(d);
  Vector<T> Xty = Vector<T>::Zero(d);  // X^T y, later Xc^T yc
  ColMatrix G = ColMatrix::Zero(d, d);  // X^T X (lower triangle), later Xc^T Xc
  // G = X^T X by one symmetric rank-n update over the whole X (half the flops of a general
  // product; Eigen's own cache blocking beats feeding it row chunks). Then X^T y and the column
  // sums X^T 1 in one pass, chunk by chunk so each chunk is reused from cache by the second
  // product (a column-wise reduction of a row-major X would stride through memory per column).
  G.template selfadjointView<Eigen::Lower>().rankUpdate(X.transpose());
  {
    Vector<T> col_sum = Vector<T>::Zero(d);
    rb.setOnes();
    for (Index i = 0; i < n; i += chunk) {
      const Index m = std::min(chunk, n - i);
      const auto Xi = X.middleRows(i, m);
      Xty.noalias() += Xi.transpose() * y.segment(i, m);
      if (fit_intercept) col_sum.noalias() += Xi.transpose() * rb.head(m);
    }
    mu = col_sum.transpose() / static_cast<T>(n);
  }
  const T ybar = fit_intercept ? y.mean() : T(0);

  LeastSquaresSolution<T> out;
  out.coef = Vector<T>::Zero(d);
  if (d == 0) {
    out.intercept = ybar;
    return out;
  }

  // --- Gram matrix of the centred data ----------------------------------------------------------
  // Fast path: one symmetric rank-n update G = X^T X and one product X^T [y 1] over the raw X,
  // then centre algebraically: Gc = G - n mu mu^T, Xc^T yc = X^T y - n mu ybar. That subtraction
  // loses about log10(G_jj / Gc_jj) digits when the means are large relative to the spread; the
  // refinement below recovers a few, and beyond 1e4 (4 digits) the Gram matrix is recomputed
  // from row chunks centred explicitly in a cache-sized buffer.
  Matrix<T> Cb;  // centred chunk: chunk x d (slow path only)
  bool centre_chunks = false;
  if (fit_intercept) {
    const T nn = static_cast<T>(n);
    const Vector<T> G_diag = G.diagonal();
    G.template triangularView<Eigen::Lower>() -= nn * mu.transpose() * mu;
    Xty -= (nn * ybar) * mu.transpose();
    for (Index j = 0; j < d; ++j)
      if (!(G(j, j) * T(1e4) > G_diag(j))) centre_chunks = true;  // also catches Gc_jj <= 0
    if (centre_chunks) {
      Cb.resize(chunk, d);
      G.setZero();
      Xty.setZero();
      for (Index i = 0; i < n; i += chunk) {
        const Index m = std::min(chunk, n - i);
        auto C = Cb.topRows(m);
        C = X.middleRows(i, m).rowwise() - mu;
        rb.head(m) = y.segment(i, m).array() - ybar;
        G.template selfadjointView<Eigen::Lower>().rankUpdate(C.transpose());  // G += C^T C
        Xty.noalias() += C.transpose() * rb.head(m);
      }
    }
  }
  G.diagonal().array() += alpha;

  // --- equilibrated Cholesky with a conditioning check ------------------------------------------
  Vector<T> s = G.diagonal().cwiseSqrt();  // column scales: G_s = S^-1 G S^-1 has unit diagonal
  bool cholesky_ok = (s.array() > T(0)).all() && s.allFinite();
  Eigen::LLT<ColMatrix, Eigen::Lower> llt;
  if (cholesky_ok) {
    ColMatrix Gs = G.template selfadjointView<Eigen::Lower>();
    Gs = s.cwiseInverse().asDiagonal() * Gs * s.cwiseInverse().asDiagonal();
    llt.compute(Gs);
    cholesky_ok = llt.info() == Eigen::Success && llt.rcond() >= std::sqrt(eps);
  }

  if (cholesky_ok) {
    const auto solve = [&](const Vector<T>& rhs) -> Vector<T> {
      return s.cwiseInverse().asDiagonal() * llt.solve(s.cwiseInverse().asDiagonal() * rhs);
    };
    out.coef = solve(Xty);
    out.used_cholesky = true;
    out.rank = d;
    // Iterative refinement: g = Xc^T (yc - Xc w) - alpha w is the (half) gradient of the
    // objective at w; the correction solves G dw = g. Each step shrinks the error by about
    // cond(G) * eps, so once |dw| * cond(G) * eps is below eps |w| the next correction would be
    // below rounding: stop.
    const T rcond = llt.rcond();
    Vector<T> g(d);
    for (int step = 0; step < 3; ++step) {
      g.noalias() = -alpha * out.coef;
      if (centre_chunks) {
        for (Index i = 0; i < n; i += chunk) {
          const Index m = std::min(chunk, n - i);
          auto C = Cb.topRows(m);
          C = X.middleRows(i, m).rowwise() - mu;
          rb.head(m) = y.segment(i, m).array() - ybar;
          rb.head(m).noalias() -= C * out.coef;
          g.noalias() += C.transpose() * rb.head(m);
        }
      } else {
        // r = yc - Xc w = y - X w - (ybar - mu.w);  Xc^T r = X^T r - mu^T sum(r). Chunked so each
        // chunk of X is still in cache for the second product: one memory pass over X.
        const T shift = ybar - mu.dot(out.coef);
        T r_sum = T(0);
        for (Index i = 0; i < n; i += chunk) {
          const Index m = std::min(chunk, n - i);
          const auto Xi = X.middleRows(i, m);
          rb.head(m).noalias() = -(Xi * out.coef);
          rb.head(m).array() += y.segment(i, m).array() - shift;
          g.noalias() += Xi.transpose() * rb.head(m);
          r_sum += rb.head(m).sum();
        }
        if (fit_intercept) g -= r_sum * mu.transpose();
      }
      const Vector<T> dw = solve(g);
      out.coef += dw;
      ++out.refinement_steps;
      if (!(dw.template lpNorm<Eigen::Infinity>() > rcond * out.coef.template lpNorm<Eigen::Infinity>())) break;
    }
  } else {
    // Rank-revealing fallback on the centred data itself (never squares the condition number).
    const Index extra = alpha > T(0) ? d : 0;
    ColMatrix A(n + extra, d);
    Vector<T> b(n + extra);
    A.topRows(n) = X.rowwise() - mu;
    b.head(n) = y.array() - ybar;
    if (extra > 0) {
      A.bottomRows(d).setZero();
      A.bottomRows(d).diagonal().setConstant(std::sqrt(alpha));
      b.tail(d).setZero();
    }
    Eigen::CompleteOrthogonalDecomposition<ColMatrix> cod(A);
    out.coef = cod.solve(b);
    out.rank = cod.rank();
  }
  out.intercept = fit_intercept ? ybar - mu.dot(out.coef) : T(0);
  return out;
}

}  // namespace eigenml::detail
