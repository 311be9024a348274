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
/// The binary evaluation is one fused pass over the rows of X (binary_rows), the multinomial one
/// whole-block matrix products; workspaces are members and only grow.

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cmath>
#include <type_traits>

#include "eigenml/core.hpp"

namespace eigenml::detail {

// The binary pass below is written with Eigen's packet functions (as Eigen's own kernels are);
// GCC warns that the vector types' alignment attributes are dropped when they are template
// arguments (PacketBlock<Packet8d, 8>), which is harmless and which Eigen silences in its headers.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

/// 1 / k! for k = 0..N, at compile time.
template <class T, int N>
constexpr std::array<T, N + 1> inverse_factorials() {
  std::array<T, N + 1> f{};
  f[0] = T(1);
  for (int k = 1; k <= N; ++k) f[k] = f[k - 1] / T(k);
  return f;
}

/// exp(x) for x <= 0, to about an ulp (0.9 with FMA, 1.2 without, in the tests): x = n ln 2 + r
/// with n = floor(x / ln 2 + 1/2), so |r| <= ln(2) / 2, r found with ln 2 split in two (Cody and
/// Waite's reduction); exp(r) by its Taylor polynomial (degree 13 in double, 7 in float: the
/// first term left out is at most 0.04 ulp in double, 0.09 in float), then scaled by 2^n (one
/// instruction with AVX-512). Eigen's pexp takes a division and the integer operations of its
/// ldexp; this made the binary pass ~4% faster. x below the smallest subnormal's log gives 0.
template <class Packet>
EIGEN_STRONG_INLINE Packet exp_nonpositive(Packet x) {
  namespace ei = Eigen::internal;
  using T = typename ei::unpacket_traits<Packet>::type;
  constexpr bool dbl = std::is_same_v<T, double>;
  // ln 2 = ln2_hi + ln2_lo with ln2_hi's last 11 (double) or 8 (float) bits zero, so n ln2_hi is
  // exact without an FMA as well (|n| < 2^11 or 2^8)
  constexpr T ln2_hi = dbl ? T(0x1.62e42fefa38p-1) : T(0x1.62e4p-1f);
  constexpr T ln2_lo = dbl ? T(0x1.ef35793c7673p-45) : T(1.4286068e-06f);
  constexpr int degree = dbl ? 13 : 7;
  x = ei::pmax(x, ei::pset1<Packet>(dbl ? T(-746) : T(-104)));
  const Packet n = ei::pfloor(ei::pmadd(x, ei::pset1<Packet>(T(1.4426950408889634)), ei::pset1<Packet>(T(0.5))));
  Packet r = ei::pmadd(n, ei::pset1<Packet>(-ln2_hi), x);
  r = ei::pmadd(n, ei::pset1<Packet>(-ln2_lo), r);
  // Horner from 1/degree! down to 1: s = 1 + r (1 + r/2 (1 + r/3 (...))) with the factorials folded in
  static constexpr auto inv_fact = inverse_factorials<T, degree>();
  Packet s = ei::pset1<Packet>(inv_fact[degree]);
  for (int k = degree - 1; k >= 0; --k) s = ei::pmadd(s, r, ei::pset1<Packet>(inv_fact[k]));
#if defined(EIGEN_VECTORIZE_AVX512)
  if constexpr (std::is_same_v<Packet, ei::Packet8d>)
    return _mm512_scalef_pd(s, n);
  else if constexpr (std::is_same_v<Packet, ei::Packet16f>)
    return _mm512_scalef_ps(s, n);
  else
#endif
    return ei::pldexp(s, n);
}

/// One sample's terms of the binary loss from its logit z and label y (0 or 1), for a packet or a
/// single scalar (Eigen's packet functions also take plain scalars):
///     loss = softplus(z) - y z = log(u) + rest,    p = sigmoid(z),
/// returning u = 1 + e and rest, so the caller decides how to sum the logs. With e = exp(-|z|)
/// (never overflows), softplus(z) = max(z, 0) + log1p(e) and sigmoid(z) = 1 / (1 + e) for z >= 0,
/// e / (1 + e) otherwise, both at full precision. All of it is branch-free: a packet of samples
/// takes one exp and one division.
template <class Packet>
EIGEN_STRONG_INLINE void binary_terms(const Packet& z, const Packet& y, Packet& u, Packet& rest, Packet& p) {
  namespace ei = Eigen::internal;
  using T = typename ei::unpacket_traits<Packet>::type;
  const Packet one = ei::pset1<Packet>(T(1)), zero = ei::pset1<Packet>(T(0));
  const Packet e = exp_nonpositive(ei::pnegate(ei::pabs(z)));
  u = ei::padd(one, e);
  const Packet q = ei::pdiv(one, u);
  // log1p(e) = log(u) - ((u - 1) - e) / u with u = 1 + e rounded: (u - 1) - e is exactly the
  // rounding error of u, so this corrects log(u) to a few ulps, also for e below eps (u = 1: the
  // result is e).
  rest = ei::psub(ei::psub(ei::pmax(z, zero), ei::pmul(y, z)), ei::pmul(ei::psub(ei::psub(u, one), e), q));
  // sigmoid(z) = q for z >= 0, e q for z < 0 (both 1/2 where e rounds to 1, at z near 0)
  if constexpr (std::is_same_v<Packet, T>)
    p = z < T(0) ? e * q : q;
  else
    p = ei::pselect(ei::pcmp_lt(z, zero), ei::pmul(e, q), q);
}

/// a[0] + ... + a[N-1], pairwise (a short dependency chain). Written as a compile-time recursion
/// so every index is a constant and the packets stay in registers: GCC kept the equivalent
/// run-time loop's packets on the stack (store-to-load chains, ~18% of the binary pass).
template <int N, class Packet>
EIGEN_STRONG_INLINE Packet sum_packets(const Packet* a) {
  if constexpr (N == 1)
    return a[0];
  else
    return Eigen::internal::padd(sum_packets<N / 2>(a), sum_packets<N - N / 2>(a + N / 2));
}

/// Lane k of the result: the sum of the lanes of a.packet[k] (P packets of P lanes), a horizontal
/// sum of P packets at once. Generic: transpose, then add the packets. For AVX-512 doubles (and
/// AVX's 4 doubles) pairwise shuffles instead: each level adds neighbouring lanes of two packets
/// and interleaves them, 14 shuffles and 7 additions for 8 packets where the transpose took ~40
/// shuffles (the binary pass's dot products spent more time in it than in their FMAs).
template <class Packet>
EIGEN_STRONG_INLINE Packet lane_sums(Eigen::internal::PacketBlock<Packet, Eigen::internal::unpacket_traits<Packet>::size>& a) {
  namespace ei = Eigen::internal;
  constexpr int P = ei::unpacket_traits<Packet>::size;
  if constexpr (P > 1) ei::ptranspose(a);  // lane k of packet j: row k's partial sum j
  return sum_packets<P>(a.packet);
}
#if defined(EIGEN_VECTORIZE_AVX512)
EIGEN_STRONG_INLINE Eigen::internal::Packet8d lane_sums(Eigen::internal::PacketBlock<Eigen::internal::Packet8d, 8>& a) {
  using Eigen::internal::Packet8d;
  // lanes 2l, 2l+1 of the result: x's and y's sums of their lanes 2l and 2l+1
  const auto pairs = [](Packet8d x, Packet8d y) { return _mm512_add_pd(_mm512_unpacklo_pd(x, y), _mm512_unpackhi_pd(x, y)); };
  // 128-bit lanes [x0 + x1, x2 + x3, y0 + y1, y2 + y3]
  const auto quads = [](Packet8d x, Packet8d y) {
    return _mm512_add_pd(_mm512_shuffle_f64x2(x, y, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_f64x2(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
  };
  const Packet8d p01 = pairs(a.packet[0], a.packet[1]), p23 = pairs(a.packet[2], a.packet[3]);
  const Packet8d p45 = pairs(a.packet[4], a.packet[5]), p67 = pairs(a.packet[6], a.packet[7]);
  return quads(quads(p01, p23), quads(p45, p67));
}
#endif
#if defined(EIGEN_VECTORIZE_AVX)
EIGEN_STRONG_INLINE Eigen::internal::Packet4d lane_sums(Eigen::internal::PacketBlock<Eigen::internal::Packet4d, 4>& a) {
  // [a0_01, a1_01, a0_23, a1_23] and the same for a2, a3; then the halves added across
  const __m256d h01 = _mm256_hadd_pd(a.packet[0], a.packet[1]), h23 = _mm256_hadd_pd(a.packet[2], a.packet[3]);
  return _mm256_add_pd(_mm256_permute2f128_pd(h01, h23, 0x20), _mm256_permute2f128_pd(h01, h23, 0x31));
}
#endif

/// g[off[c] ..] += r^T X for NC packets of columns at offsets off[c] of the rows of x (n rows,
/// n a multiple of R), accumulated in dst[c] (P values each). The sums are held in registers,
/// R rows at a time in R independent chains per packet (an FMA's latency is 4 cycles, so a
/// single chain per packet would leave the FMA units idle three quarters of the time).
template <int NC, int R, class Packet, class T>
EIGEN_STRONG_INLINE void add_rtx(const T* x, Index stride, const T* r, Index n, const Index* off, T* const* dst) {
  namespace ei = Eigen::internal;
  Packet a[R][NC];
  for (int c = 0; c < NC; ++c) {
    a[0][c] = ei::ploadu<Packet>(dst[c]);
    for (int q = 1; q < R; ++q) a[q][c] = ei::pset1<Packet>(T(0));
  }
  for (Index k = 0; k < n; k += R)
    for (int q = 0; q < R; ++q) {
      const Packet rk = ei::pset1<Packet>(r[k + q]);
      const T* xk = x + (k + q) * stride;
      for (int c = 0; c < NC; ++c) a[q][c] = ei::pmadd(rk, ei::ploadu<Packet>(xk + off[c]), a[q][c]);
    }
  for (int c = 0; c < NC; ++c) {
    for (int q = 1; q < R; ++q) a[0][c] = ei::padd(a[0][c], a[q][c]);
    ei::pstoreu(dst[c], a[0][c]);
  }
}

/// Sums over the rows [i, c) of a row-major block X (c x d, finite), taken G P rows at a time (P
/// the size of Packet, P <= d) while at least G P remain: z = X w + b, loss and p (binary_terms),
/// r = (p - y) / m; adds sum loss, sum r and r^T X (into g, d values) and writes p. Returns the
/// first row not done. With `exact` false the loss is summed to about eps per sample absolute
/// (see LossValue): the logs of a group's u in [1, 2] are taken as the log of their product.
///
/// One read of each row does everything: the logits of P rows (one packet accumulator per row,
/// summed across lanes by lane_sums so P dot products come out as one packet; the last d mod P
/// columns read as the packet that ends at column d, against weights zeroed on the columns
/// already covered), their terms, and r^T X from the same rows while they are in L1 (add_rtx).
/// X is read from memory (or L3) once, the next group prefetched during this one. G packets of
/// rows are done together, phase by phase (dots, terms, r^T X), because each phase is a long
/// dependency chain and the out-of-order core overlaps G independent ones (and a reported value
/// takes one log per group): 100k x 20 doubles in cache, AVX-512, G = 1: 1.24 ms, G = 8: 0.71
/// ms. (Eigen's row-major GEMV alone, which reduces each row separately and does the column tail
/// in scalar code, takes 0.45 ms.) Since: 100k x 20 from memory 0.60 -> 0.46 ms per pass (best of
/// 7; 2000 x 20 in cache 4.4 -> 4.1 ns a row) with the prefetch, lane_sums' shuffles and add_rtx;
/// ~4% with exp_nonpositive, ~5% with NC. NC > 0: the number of packets of columns,
/// ceil(d / P), fixed at compile time (their loops unrolled, their offsets constant); NC = 0:
/// any d.
template <class Packet, int G, bool exact, int NC, class T>
Index binary_rows(const Eigen::Ref<const Matrix<T>>& X, const int* y, const T* w, T b, T inv_m, Index i, T* p_out,
                  T* g, T& sum_loss, T& sum_r) {
  namespace ei = Eigen::internal;
  constexpr Index P = ei::unpacket_traits<Packet>::size;
  const Index c = X.rows(), d = X.cols(), stride = X.outerStride();
  // The columns in nc packets: packet k < nc - 1 at k P, the last at d - P (it ends at column d
  // and may overlap the one before, whose columns it then weighs by zero).
  const Index nc = NC > 0 ? NC : (d + P - 1) / P, covered = (nc - 1) * P, last = d - P;
  T wl[P];
  for (Index k = 0; k < P; ++k) wl[k] = last + k >= covered ? w[last + k] : T(0);
  const Packet w_last = ei::ploadu<Packet>(wl), zero = ei::pset1<Packet>(T(0));
  Packet loss_acc = zero, r_acc = zero;
  T yb[G * P], rb[G * P], zb[G * P], g_last[P] = {};
  constexpr int R = G * P >= 4 ? 4 : G * P;
  // Packet k of the columns: its offset in a row, and where r^T X sums it (the last packet into
  // g_last, added to g at the end for the columns it alone covers). With NC fixed, one register
  // block takes all of them.
  const auto col_off = [&](Index k) { return k < nc - 1 ? k * P : last; };
  const auto col_dst = [&](Index k) { return k < nc - 1 ? g + k * P : g_last; };
  Index off[NC > 0 ? NC : 1];
  T* dst[NC > 0 ? NC : 1];
  if constexpr (NC > 0)
    for (Index k = 0; k < NC; ++k) off[k] = col_off(k), dst[k] = col_dst(k);
  // Each packet of rows prefetches the same rows of the next group (when a group is small
  // enough for L1 to hold two): the hardware prefetcher alone left the pass over 100k x 20
  // doubles ~30% slower than over rows in cache.
  const bool prefetch = G > 1 && G * P * stride * Index(sizeof(T)) <= 16384;
  constexpr Index line = 64 / Index(sizeof(T));
  for (; i + G * P <= c; i += G * P) {
    const T* x = X.data() + i * stride;
    for (Index k = 0; k < G * P; ++k) yb[k] = static_cast<T>(y[i + k]);
    for (int q = 0; q < G; ++q) {
      // z = X w + b for rows q P .. q P + P - 1 of the group
      const T* xq = x + q * P * stride;
      if (prefetch && i + 2 * G * P <= c)
        for (Index l = 0; l < P * stride; l += line) __builtin_prefetch(xq + G * P * stride + l);
      ei::PacketBlock<Packet, P> acc;
      for (Index k = 0; k < P; ++k) acc.packet[k] = zero;
      for (Index j = 0; j < covered; j += P) {
        const Packet wj = ei::ploadu<Packet>(w + j);
        for (Index k = 0; k < P; ++k)
          acc.packet[k] = ei::pmadd(ei::ploadu<Packet>(xq + k * stride + j), wj, acc.packet[k]);
      }
      for (Index k = 0; k < P; ++k)
        acc.packet[k] = ei::pmadd(ei::ploadu<Packet>(xq + k * stride + last), w_last, acc.packet[k]);
      ei::pstoreu(zb + q * P, ei::padd(lane_sums(acc), ei::pset1<Packet>(b)));
    }
    Packet u_prod = ei::pset1<Packet>(T(1));  // at most 2^G
    for (int q = 0; q < G; ++q) {
      const Packet z = ei::ploadu<Packet>(zb + q * P);
      const Packet yq = ei::ploadu<Packet>(yb + q * P);
      Packet u, rest, p;
      binary_terms(z, yq, u, rest, p);
      loss_acc = ei::padd(loss_acc, rest);
      if constexpr (exact) loss_acc = ei::padd(loss_acc, ei::plog(u));
      else u_prod = ei::pmul(u_prod, u);
      ei::pstoreu(p_out + i + q * P, p);
      const Packet r = ei::pmul(ei::psub(p, yq), ei::pset1<Packet>(inv_m));
      r_acc = ei::padd(r_acc, r);
      ei::pstoreu(rb + q * P, r);
    }
    if constexpr (!exact) loss_acc = ei::padd(loss_acc, ei::plog(u_prod));
    // g += r^T X over the group's rows, up to 4 packets of columns at a time
    if constexpr (NC > 0)
      add_rtx<NC, R, Packet>(x, stride, rb, G * P, off, dst);
    else
      for (Index c0 = 0; c0 < nc; c0 += 4) {
        const Index n = std::min<Index>(4, nc - c0);
        Index off4[4];
        T* dst4[4];
        for (Index k = 0; k < n; ++k) off4[k] = col_off(c0 + k), dst4[k] = col_dst(c0 + k);
        switch (n) {
          case 1: add_rtx<1, R, Packet>(x, stride, rb, G * P, off4, dst4); break;
          case 2: add_rtx<2, R, Packet>(x, stride, rb, G * P, off4, dst4); break;
          case 3: add_rtx<3, R, Packet>(x, stride, rb, G * P, off4, dst4); break;
          default: add_rtx<4, R, Packet>(x, stride, rb, G * P, off4, dst4); break;
        }
      }
  }
  for (Index k = 0; k < P; ++k)
    if (last + k >= covered) g[last + k] += g_last[k];
  sum_loss += ei::predux(loss_acc);
  sum_r += ei::predux(r_acc);
  return i;
}

/// The binary loss pass over all rows of X (see binary_rows): by the widest packet that fits in
/// a row, then one row at a time for the rows left over. Adds into sum_loss, sum_r and g.
template <bool exact, class T>
void binary_pass(const Eigen::Ref<const Matrix<T>>& X, const int* y, const T* w, T b, T inv_m, T* p_out, T* g,
                 T& sum_loss, T& sum_r) {
  namespace ei = Eigen::internal;
  using P1 = typename ei::packet_traits<T>::type;
  using P2 = typename ei::unpacket_traits<P1>::half;
  using P3 = typename ei::unpacket_traits<P2>::half;
  const Index d = X.cols();
  eigen_assert(d > 0 && "binary_pass: X has no columns");
  Index i = 0;
  constexpr int G = 8;
  constexpr Index S1 = ei::unpacket_traits<P1>::size;
  if (d >= S1) {
    // the main loop with the number of column packets fixed when it is small (the loops over
    // them unrolled, their offsets constant)
    switch ((d + S1 - 1) / S1) {
      case 2: i = binary_rows<P1, G, exact, 2, T>(X, y, w, b, inv_m, i, p_out, g, sum_loss, sum_r); break;
      case 3: i = binary_rows<P1, G, exact, 3, T>(X, y, w, b, inv_m, i, p_out, g, sum_loss, sum_r); break;
      case 4: i = binary_rows<P1, G, exact, 4, T>(X, y, w, b, inv_m, i, p_out, g, sum_loss, sum_r); break;
      default: i = binary_rows<P1, G, exact, 0, T>(X, y, w, b, inv_m, i, p_out, g, sum_loss, sum_r); break;
    }
    i = binary_rows<P1, 1, exact, 0, T>(X, y, w, b, inv_m, i, p_out, g, sum_loss, sum_r);
  } else if (d >= ei::unpacket_traits<P2>::size) {
    i = binary_rows<P2, G, exact, 0, T>(X, y, w, b, inv_m, i, p_out, g, sum_loss, sum_r);
    i = binary_rows<P2, 1, exact, 0, T>(X, y, w, b, inv_m, i, p_out, g, sum_loss, sum_r);
  } else if (d >= ei::unpacket_traits<P3>::size) {
    i = binary_rows<P3, G, exact, 0, T>(X, y, w, b, inv_m, i, p_out, g, sum_loss, sum_r);
    i = binary_rows<P3, 1, exact, 0, T>(X, y, w, b, inv_m, i, p_out, g, sum_loss, sum_r);
  }
  binary_rows<T, 1, exact, 0, T>(X, y, w, b, inv_m, i, p_out, g, sum_loss, sum_r);
}

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/// How accurately LogisticLoss::value_grad computes F. `exact`: to a few ulps of F (a line search
/// compares values that differ by little). `report`: to about eps per sample absolute, for a value
/// that is only shown (an epoch's loss in a fit's history); the binary loss then takes one log
/// per group of 8 packets of samples instead of one per sample (the log was ~25% of a gradient-
/// descent step).
enum class LossValue { exact, report };

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

  /// F at (W, b) over the rows of X (m x d) with labels y (m), to `accuracy`; writes dF/dW (W's
  /// shape) and, when fit_intercept, dF/db (K' x 1) (left untouched otherwise; b must then be zero).
  T value_grad(const ConstRef& X, const Eigen::Ref<const Labels>& y, const ConstRef& W, const ConstRef& b,
               bool fit_intercept, T lambda, MutRef gW, MutRef gb, LossValue accuracy = LossValue::exact) {
    const Index m = X.rows();
    const T inv_m = T(1) / static_cast<T>(m);
    reserve(m);
    T data_loss;
    if (binary()) {
      const T b0 = fit_intercept ? b(0, 0) : T(0);
      auto g = gW.row(0);
      g.setZero();
      T sum_loss = T(0), sum_r = T(0);
      if (accuracy == LossValue::exact)
        binary_pass<true, T>(X, y.data(), W.data(), b0, inv_m, P_.data(), g.data(), sum_loss, sum_r);
      else
        binary_pass<false, T>(X, y.data(), W.data(), b0, inv_m, P_.data(), g.data(), sum_loss, sum_r);
      data_loss = sum_loss * inv_m;
      if (lambda != T(0)) g += lambda * W.row(0);
      if (fit_intercept) gb(0, 0) = sum_r;
      const T penalty = lambda == T(0) ? T(0) : T(0.5) * lambda * W.squaredNorm();
      return data_loss + penalty;
    }
    // Multinomial.
    auto R = R_.topRows(m);  // m x K: (P - Y) / m
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
    if (binary()) {
      // H = A^T A + lambda diag(1..1, 0) with A = diag(sw) X~, sw = sqrt(p (1 - p) / m), summed
      // over chunks of rows (the intercept is A's last column, sw): the scaled rows live in a
      // buffer of ~16 KiB that stays in L1, instead of an n x d copy of X per Hessian (a page-
      // faulted 16 MB for 100k x 20). Measured for 100k x 21 (1 thread, best of 20): chunks of
      // 2^11 values 3.95 ms, 2^12 4.4, 2^16 5.5, 2^18 6.1. A plain GEMM: for p this small,
      // Eigen's symmetric rank update measured no faster, and H comes out whole.
      const Index chunk = std::min<Index>(m, std::max<Index>(64, (Index(1) << 11) / p_count));
      if (Xw_.rows() < chunk || Xw_.cols() != p_count) Xw_.resize(chunk, p_count);
      if (w_.size() < chunk) w_.resize(chunk);
      for (Index s = 0; s < m; s += chunk) {
        const Index c = std::min(chunk, m - s);
        auto w = w_.head(c);
        auto A = Xw_.topRows(c);
        const auto ps = P_.col(0).segment(s, c).array();
        w = (ps * (T(1) - ps) * inv_m).sqrt();
        A.leftCols(d) = w.asDiagonal() * X.middleRows(s, c);
        if (fit_intercept) A.col(d) = w;
        H.noalias() += A.transpose() * A;
      }
      if (lambda != T(0)) H.diagonal().head(d).array() += lambda;
      return;
    }
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
    if (P_.rows() < m || P_.cols() != Kr) {
      P_.resize(m, Kr);
      // the binary pass keeps only P (for the Hessian); the rest is multinomial
      const Index rows = binary() ? 0 : m;
      Z_.resize(rows, Kr);
      R_.resize(rows, Kr);
      mx_.resize(rows);
      s_.resize(rows);
    }
  }

  int K_;
  // Workspaces (grow only). Column-major: per-class columns are contiguous.
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> Z_, P_, R_;
  Vector<T> mx_, s_, w_;
  Matrix<T> Xw_;
};

}  // namespace eigenml::detail
