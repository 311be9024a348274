#pragma once
/// \file detail/least_squares.hpp
/// The exact solver behind `LinearRegression::fit`: ridge-regularised least squares
///
///     min_w ||Xc w - yc||^2 + alpha ||w||^2,   Xc = X - 1 mu^T,  yc = y - ybar,
///
/// where mu and ybar are the column means (zero without an intercept). The intercept is then
/// ybar - mu^T w, so it is never penalised.
///
/// Method (fast path): one chunked pass over X (each chunk of rows reused from cache, the next
/// one prefetched) forms the Gram matrix G = X^T X (lower triangle; SIMD tiles straight from the
/// rows for narrow X, Eigen's rank update otherwise), the column sums X^T 1 and X^T r0 for the
/// residual r0 = y - X w0 - b0 of a starting point (w0, b0): the normal-equations solution of a
/// prefix of the rows, or zero. A non-finite value of X makes a diagonal entry of G non-finite,
/// so this pass is also the finiteness check. G is centred algebraically, Gc = G - n mu mu^T; when
/// that subtraction would lose more than 4 digits (means large relative to the spread) Gc is
/// instead accumulated from row chunks centred explicitly in a cache-sized buffer. Gc + alpha I
/// is then equilibrated (unit diagonal) and Cholesky-factorised. The Cholesky solution of the
/// normal equations has error ~ cond(X)^2 eps, so it is improved by iterative refinement on the
/// true residual (r = yc - Xc w, solve Gc dw = Xc^T r - alpha w), each step one pass over X; from
/// the prefix start the solve after the Gram pass already is the first refinement step. A step is
/// repeated (up to 3) only while the correction is above cond^-1 |w| (the next one would then be
/// above rounding); on well-conditioned data the whole fit reads X once (plus the 1/32 prefix twice).
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
#include <string_view>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"

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

/// Software prefetch of the next chunk (`size` values from `p`) spread evenly over the steps of
/// the Gram tiles, so its memory traffic overlaps their arithmetic instead of following it.
template <class T>
struct PrefetchStream {
  const T* p;
  Index size;   // values left
  Index steps;  // rows of the current chunk: about one cache line per `lines_per_step`
  Index lines_per_step = std::max<Index>(1, (size * Index(sizeof(T)) / 64 + steps - 1) / std::max<Index>(steps, 1));
  void step() {
    constexpr Index per_line = 64 / Index(sizeof(T));
    for (Index q = 0; q < lines_per_step && size > 0; ++q, p += per_line, size -= per_line)
      Eigen::internal::prefetch(p);
  }
};

/// Rows j0..j0+R-1 of G += X^T X at columns k0..k0+L-1 (one SIMD packet), keeping the entries
/// with kmin <= k <= j (lower triangle, not yet covered); X: m rows of stride ld. The R x L tile
/// stays in registers while the rows stream from cache; short tiles take two rows per step
/// (two accumulator sets) so the FMA latency is hidden.
template <class T, int R, class GMatrix>
void gram_tile(const T* X, Index ld, Index m, Index j0, Index k0, Index kmin, GMatrix& G, PrefetchStream<T>& pf) {
  using P = typename Eigen::internal::packet_traits<T>::type;
  constexpr Index L = Eigen::internal::packet_traits<T>::size;
  constexpr int U = R >= 8 ? 1 : 2;
  P acc[U][R];
  for (int u = 0; u < U; ++u)
    for (int r = 0; r < R; ++r) acc[u][r] = Eigen::internal::pset1<P>(T(0));
  Index i = 0;
  for (; i + U <= m; i += U, X += U * ld) {
    pf.step();
    for (int u = 0; u < U; ++u) {
      const T* row = X + u * ld;
      const P x = Eigen::internal::ploadu<P>(row + k0);
      for (int r = 0; r < R; ++r)
        acc[u][r] = Eigen::internal::pmadd(Eigen::internal::pset1<P>(row[j0 + r]), x, acc[u][r]);
    }
  }
  for (; i < m; ++i, X += ld) {
    const P x = Eigen::internal::ploadu<P>(X + k0);
    for (int r = 0; r < R; ++r) acc[0][r] = Eigen::internal::pmadd(Eigen::internal::pset1<P>(X[j0 + r]), x, acc[0][r]);
  }
  T tmp[L];
  for (int r = 0; r < R; ++r) {
    P sum = acc[0][r];
    for (int u = 1; u < U; ++u) sum = Eigen::internal::padd(sum, acc[u][r]);
    Eigen::internal::pstoreu(tmp, sum);
    for (Index l = std::max<Index>(0, kmin - k0); l < L && k0 + l <= j0 + r; ++l) G(j0 + r, k0 + l) += tmp[l];
  }
}

/// Tiles covering rows j0..d-1 of G at the packet of columns k0..k0+L-1 (entries k >= kmin).
template <class T, class GMatrix>
void gram_tiles(const T* X, Index ld, Index m, Index d, Index j0, Index k0, Index kmin, GMatrix& G,
                PrefetchStream<T>& pf) {
  for (; j0 + 8 <= d; j0 += 8) gram_tile<T, 8>(X, ld, m, j0, k0, kmin, G, pf);
  if (j0 + 4 <= d) gram_tile<T, 4>(X, ld, m, j0, k0, kmin, G, pf), j0 += 4;
  if (j0 + 2 <= d) gram_tile<T, 2>(X, ld, m, j0, k0, kmin, G, pf), j0 += 2;
  if (j0 < d) gram_tile<T, 1>(X, ld, m, j0, k0, kmin, G, pf);
}

/// r = y - X w - b0, g += X^T r, r_sum += sum(r) and (with `sums`) s += X^T 1 over m rows of
/// stride ld, for L <= d < (NP+1) L: NP whole SIMD packets plus, when L does not divide d, one
/// packet ending at column d-1 whose lanes below NP*L (already covered) get a zero weight. w, g
/// and s stay in registers and each row is read once; two rows per step, with separate
/// accumulators, so the loop-carried FMA latency is hidden.
template <class T, int NP, bool sums, bool with_w>
void residual_rows(const T* X, Index ld, Index m, Index d, const T* w, T b0, const T* y, T* g, T& r_sum, T* s) {
  using P = typename Eigen::internal::packet_traits<T>::type;
  constexpr Index L = Eigen::internal::packet_traits<T>::size;
  constexpr int Q = NP + 1;  // packets per row, the last one the tail (unused when L divides d)
  const Index tail = d - L, keep = NP * L - tail;  // tail packet starts at column d-L; lanes < keep overlap
  const bool has_tail = d > NP * L;
  T wt[L];
  for (Index l = 0; l < L; ++l) wt[l] = has_tail && l >= keep ? w[tail + l] : T(0);
  P wp[Q], gp[2][Q], sp[2][Q];
  for (int p = 0; p < NP; ++p) wp[p] = Eigen::internal::ploadu<P>(w + p * L);
  wp[NP] = Eigen::internal::ploadu<P>(wt);
  for (int u = 0; u < 2; ++u)
    for (int p = 0; p < Q; ++p) gp[u][p] = sp[u][p] = Eigen::internal::pset1<P>(T(0));
  T rs[2] = {T(0), T(0)};
  const auto row_step = [&](const T* row, T yi, int u) {
    P x[Q];
    for (int p = 0; p < NP; ++p) x[p] = Eigen::internal::ploadu<P>(row + p * L);
    x[NP] = has_tail ? Eigen::internal::ploadu<P>(row + tail) : Eigen::internal::pset1<P>(T(0));
    T ri = yi - b0;
    if constexpr (with_w) {
      P dot = Eigen::internal::pmul(x[0], wp[0]);
      for (int p = 1; p < Q; ++p) dot = Eigen::internal::pmadd(x[p], wp[p], dot);
      ri -= Eigen::internal::predux(dot);
    }
    rs[u] += ri;
    const P rp = Eigen::internal::pset1<P>(ri);
    for (int p = 0; p < Q; ++p) {
      gp[u][p] = Eigen::internal::pmadd(rp, x[p], gp[u][p]);
      if constexpr (sums) sp[u][p] = Eigen::internal::padd(sp[u][p], x[p]);
    }
  };
  Index i = 0;
  for (; i + 2 <= m; i += 2) row_step(X + i * ld, y[i], 0), row_step(X + (i + 1) * ld, y[i + 1], 1);
  if (i < m) row_step(X + i * ld, y[i], 0);
  T tmp[L];
  const auto flush = [&](P (&acc)[2][Q], T* out) {
    for (int p = 0; p < Q; ++p) {
      if (p == NP && !has_tail) break;
      Eigen::internal::pstoreu(tmp, Eigen::internal::padd(acc[0][p], acc[1][p]));
      for (Index l = p == NP ? keep : 0; l < L; ++l) out[(p == NP ? tail : p * L) + l] += tmp[l];
    }
  };
  flush(gp, g);
  if constexpr (sums) flush(sp, s);
  r_sum += rs[0] + rs[1];
}

/// G += C^T C on the lower triangle (G: d x d column-major), C: m x d row-major rows of X.
/// For d from one to four SIMD packets the product is computed straight from the rows: a tile
/// of 4 rows of G times one packet of columns lives in registers, each row of C gives one packet
/// load and 4 broadcasts. Eigen's rank update packs C and runs 24x4 micro-tiles, most of which
/// is padding when d is this small; for larger d (or d below one packet) it is the better kernel.
template <class T, class GMatrix>
void gram_add(const Eigen::Ref<const Matrix<T>>& C, GMatrix& G, const T* prefetch = nullptr, Index prefetch_size = 0) {
  constexpr Index L = Eigen::internal::packet_traits<T>::size;
  const Index m = C.rows(), d = C.cols(), ld = C.outerStride();
  if (L == 1 || d < L || d >= 4 * L) {
    G.template selfadjointView<Eigen::Lower>().rankUpdate(C.transpose());
    return;
  }
  const T* X = C.data();
  const Index dv = d - d % L;  // columns covered by whole packets
  PrefetchStream<T> pf{prefetch, prefetch_size, m};
  for (Index k0 = 0; k0 < dv; k0 += L) gram_tiles<T>(X, ld, m, d, k0, k0, 0, G, pf);
  // The columns right of the last whole packet: a packet ending at column d-1 (overlapping the
  // previous one), of which only the columns k >= dv are kept.
  if (dv < d) gram_tiles<T>(X, ld, m, d, dv, d - L, dv, G, pf);
}

/// One chunked pass over rows [i0, i1) of X: with `gram`, G += X^T X (lower) and s += X^T 1;
/// always r = y - X w0 - b0 (row by row, the true residual), Xtr += X^T r, r_sum += sum(r).
/// Each chunk is reused from cache by every product, so the pass reads X from memory once.
/// rb: scratch of at least `chunk` values.
template <class T, class GMatrix>
void gram_residual_pass(const Eigen::Ref<const Matrix<T>>& X, const Eigen::Ref<const Vector<T>>& y, Index i0, Index i1,
                        Index chunk, bool gram, const Vector<T>& w0, T b0, GMatrix& G, Vector<T>& s, Vector<T>& Xtr,
                        T& r_sum, Vector<T>& rb) {
  const bool with_w = !w0.isZero(T(0));
  for (Index i = i0; i < i1; i += chunk) {
    const Index m = std::min(chunk, i1 - i);
    const auto Xi = X.middleRows(i, m);
    constexpr Index L = Eigen::internal::packet_traits<T>::size;
    const Index np = X.cols() / L;
    if (L > 1 && np >= 1 && np <= 3) {
      // Eigen's row-major GEMV is slow on rows this short (~2x a memory pass at d = 10).
      // w0 = 0 (a plain X^T y, as in the first pass without a prefix start) skips the dot products.
      using Kernel = void (*)(const T*, Index, Index, Index, const T*, T, const T*, T*, T&, T*);
      static constexpr Kernel kernels[2][2][3] = {
          {{residual_rows<T, 1, false, false>, residual_rows<T, 2, false, false>, residual_rows<T, 3, false, false>},
           {residual_rows<T, 1, false, true>, residual_rows<T, 2, false, true>, residual_rows<T, 3, false, true>}},
          {{residual_rows<T, 1, true, false>, residual_rows<T, 2, true, false>, residual_rows<T, 3, true, false>},
           {residual_rows<T, 1, true, true>, residual_rows<T, 2, true, true>, residual_rows<T, 3, true, true>}}};
      kernels[gram][with_w][np - 1](Xi.data(), X.outerStride(), m, X.cols(), w0.data(), b0, y.data() + i, Xtr.data(),
                                    r_sum, s.data());
    } else {
      auto r = rb.head(m);
      r.noalias() = -(Xi * w0);
      r.array() += y.segment(i, m).array() - b0;
      Xtr.noalias() += Xi.transpose() * r;
      r_sum += r.sum();
      if (gram) {
        r.setOnes();
        s.noalias() += Xi.transpose() * r;
      }
    }
    if (gram) {
      // While the chunk is in cache for the Gram tiles, the next one is fetched from memory.
      const Index next = std::min(chunk, i1 - i - m);
      gram_add<T>(Xi, G, next > 0 ? X.row(i + m).data() : nullptr, next * X.outerStride());
    }
  }
}

/// Solves the (ridge) least-squares problem above for X (n x d), y (n). A non-finite value of X or
/// y throws, naming `where`; both are detected by the Gram pass (a non-finite x makes a diagonal
/// entry of G non-finite, a non-finite y the sum of the residuals), which saves a pass over each.
template <class T>
LeastSquaresSolution<T> solve_least_squares(const Eigen::Ref<const Matrix<T>>& X, const Eigen::Ref<const Vector<T>>& y,
                                            bool fit_intercept, T alpha, std::string_view where = "least squares") {
  using ColMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  const Index n = X.rows(), d = X.cols();
  const T eps = std::numeric_limits<T>::epsilon();
  const T nn = static_cast<T>(n);

  const Index chunk = std::min(n, least_squares_chunk_rows(d));
  Vector<T> rb(chunk);  // chunk of ones, centred targets or residuals
  Eigen::Matrix<T, 1, Eigen::Dynamic> mu = Eigen::Matrix<T, 1, Eigen::Dynamic>::Zero(d);
  Vector<T> Xty = Vector<T>::Zero(d);  // X^T r0 (r0 = y - X w0 - b0), later Xc^T rc
  Vector<T> col_sum = Vector<T>::Zero(d);
  ColMatrix G = ColMatrix::Zero(d, d);  // X^T X (lower triangle), later Xc^T Xc

  // --- starting point from a prefix of the rows ---------------------------------------------------
  // Iterative refinement needs a pass over X per step after the Cholesky solve. Instead, the
  // first residual is taken at w0, the normal-equations solution of the first n/32 rows, so the
  // Gram pass also forms Xc^T (yc - Xc w0): the solve then gives a refinement step from w0, one
  // pass over X in all when it already meets the stopping rule below (its correction is the
  // sampling error of w0, far below cond^-1 |w| on reasonable data). Otherwise (poor w0, small n,
  // ill-conditioning) the usual refinement passes follow. The prefix's Gram matrix is kept.
  Vector<T> w0 = Vector<T>::Zero(d);
  T b0 = T(0);
  const Index prefix = n / 32;
  bool use_prefix = d > 0 && prefix >= 16 * d && prefix > 0;
  if (use_prefix) {
    T y_sum = T(0);
    gram_residual_pass<T>(X, y, 0, prefix, chunk, true, w0, T(0), G, col_sum, Xty, y_sum, rb);
    const T k = static_cast<T>(prefix);
    ColMatrix Gp = G;
    Vector<T> bp = Xty;
    T ybar_p = T(0);
    Eigen::Matrix<T, 1, Eigen::Dynamic> mu_p = Eigen::Matrix<T, 1, Eigen::Dynamic>::Zero(d);
    if (fit_intercept) {
      mu_p = col_sum.transpose() / k;
      ybar_p = y_sum / k;
      Gp.template triangularView<Eigen::Lower>() -= k * mu_p.transpose() * mu_p;
      bp -= (k * ybar_p) * mu_p.transpose();
    }
    Gp.diagonal().array() += alpha * k / nn;
    // Equilibrated, with the main solve's conditioning test: a prefix that does not determine w
    // (sorted rows, a column constant over the prefix) gives no start rather than a wild one.
    const Vector<T> sp = Gp.diagonal().cwiseSqrt();
    if ((sp.array() > T(0)).all() && sp.allFinite()) {
      ColMatrix Gps = Gp.template selfadjointView<Eigen::Lower>();
      Gps = sp.cwiseInverse().asDiagonal() * Gps * sp.cwiseInverse().asDiagonal();
      Eigen::LLT<ColMatrix, Eigen::Lower> llt_p(Gps);
      if (llt_p.info() == Eigen::Success && llt_p.rcond() >= std::sqrt(eps))
        w0 = sp.cwiseInverse().asDiagonal() * llt_p.solve(sp.cwiseInverse().asDiagonal() * bp);
    }
    if (!w0.allFinite()) w0.setZero();
    b0 = fit_intercept ? ybar_p - mu_p.dot(w0) : T(0);
    if (!std::isfinite(b0)) w0.setZero(), b0 = T(0);
    Xty.setZero();
  }
  T r_sum = T(0);
  if (use_prefix) gram_residual_pass<T>(X, y, 0, prefix, chunk, false, w0, b0, G, col_sum, Xty, r_sum, rb);
  gram_residual_pass<T>(X, y, use_prefix ? prefix : 0, n, chunk, true, w0, b0, G, col_sum, Xty, r_sum, rb);
  if (!G.diagonal().allFinite()) check_finite(where, "X", X);  // throws unless the squares overflowed
  // With X finite, a non-finite y_i makes the residual sum non-finite: y needs no pass of its own.
  if (!std::isfinite(r_sum)) check_finite(where, "y", y);  // throws unless X w0 overflowed
  T ybar = T(0);
  if (fit_intercept) {
    mu = col_sum.transpose() / nn;
    // sum(y) = sum(r0) + sum(X w0 + b0), accurate unless the terms cancel (or overflowed): then
    // the pass over y after all.
    const T sum = r_sum + col_sum.dot(w0) + nn * b0;
    const T size = col_sum.cwiseAbs().dot(w0.cwiseAbs()) + nn * std::abs(b0);  // of the terms summed
    ybar = std::abs(sum) * T(1000) >= size ? sum / nn : y.mean();
  }

  LeastSquaresSolution<T> out;
  out.coef = Vector<T>::Zero(d);
  if (d == 0) {
    out.intercept = ybar;
    return out;
  }

  // --- Gram matrix of the centred data ----------------------------------------------------------
  // Centred algebraically: Gc = G - n mu mu^T, and for rc = yc - Xc w0 = r0 - mean(r0),
  // Xc^T rc = X^T r0 - mu^T sum(r0). The subtraction loses about log10(G_jj / Gc_jj) digits when
  // the means are large relative to the spread; the refinement recovers a few, and beyond 1e4
  // (4 digits) the Gram matrix is recomputed from row chunks centred explicitly in a cache-sized
  // buffer (and the refinement starts afresh from the plain solution, w0 = 0).
  Matrix<T> Cb;  // centred chunk: chunk x d (slow path only)
  bool centre_chunks = false;
  if (fit_intercept) {
    const Vector<T> G_diag = G.diagonal();
    G.template triangularView<Eigen::Lower>() -= nn * mu.transpose() * mu;
    Xty -= r_sum * mu.transpose();
    for (Index j = 0; j < d; ++j)
      if (!(G(j, j) * T(1e4) > G_diag(j))) centre_chunks = true;  // also catches Gc_jj <= 0
    if (centre_chunks) {
      use_prefix = false;
      w0.setZero();
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
    // g = Xc^T (yc - Xc w) - alpha w is the (half) gradient of the objective at w; the correction
    // solves G dw = g. With w0 = 0 this is the plain normal-equations solution; from the prefix's
    // w0 it is already a refinement step on the true residual.
    const Vector<T> g0 = Xty - alpha * w0;
    Vector<T> dw = solve(g0);
    out.coef = w0 + dw;
    out.used_cholesky = true;
    out.rank = d;
    // Iterative refinement: each step shrinks the error by about cond(G) * eps, so once
    // |dw| * cond(G) * eps is below eps |w| the next correction would be below rounding: stop.
    const T rcond = llt.rcond();
    const auto converged = [&] {
      return !(dw.template lpNorm<Eigen::Infinity>() > rcond * out.coef.template lpNorm<Eigen::Infinity>());
    };
    bool done = false;
    if (use_prefix) {
      out.refinement_steps = 1;
      done = converged();
    }
    Vector<T> g(d);
    for (int step = 0; !done && step < 3; ++step) {
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
        // r = yc - Xc w = y - X w - (ybar - mu.w);  Xc^T r = X^T r - mu^T sum(r).
        ColMatrix unused;
        Vector<T> unused_s;
        T rs = T(0);
        gram_residual_pass<T>(X, y, 0, n, chunk, false, out.coef, ybar - mu.dot(out.coef), unused, unused_s, g, rs,
                              rb);
        if (fit_intercept) g -= rs * mu.transpose();
      }
      dw = solve(g);
      out.coef += dw;
      ++out.refinement_steps;
      done = converged();
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
