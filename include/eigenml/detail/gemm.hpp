#pragma once
/// \file detail/gemm.hpp
/// `detail::Gemm<T>`: a matrix product `C = alpha A B` (or `C += alpha A B`) through Eigen's own
/// GEMM and GEMV kernels, with the packing buffers owned by the caller and reused from call to call.
///
/// Why: for every product above `EIGEN_STACK_ALLOCATION_LIMIT` (128 KB of packed panels, e.g. a
/// float 64 x 784 x 256 layer), `C.noalias() = A * B` allocates its two packing buffers on the heap
/// and frees them on return. With glibc the freed block sits at the top of the heap, is trimmed back
/// to the system, and the next call faults the pages in again: a page fault per 4 KiB of panel on
/// every product of a training step, and heap allocation in a step that must allocate nothing.
/// A layer owns one `Gemm` per product site; the buffers grow to the largest blocking seen and are
/// then reused, so a steady-state step neither allocates nor faults.
///
/// What runs is Eigen's product, reached without its expression templates: the same cache blocking
/// (`computeProductBlockingSizes`), packing and micro-kernel (`general_matrix_matrix_product`), and
/// for a vector result the same GEMV kernel (`general_matrix_vector_product`). Every operand is
/// first reduced to pointer, shape, stride and storage order, so the kernels are compiled once per
/// scalar type and storage order. That is also why it exists for compile time: Eigen's
/// `C.noalias() = A * B` compiles its whole product dispatch (coefficient-wise, GEMV and GEMM
/// paths) for every distinct expression type, which measured ~3 s of `g++ -O2` for one layer.
/// Tiny products (`m + n + k < 20`, Eigen's own threshold) run column by column through the GEMV
/// kernel: for a row-major result (a layer's batch) each row of a tiny batch is then computed as a
/// batch of one would compute it, bit for bit. Products large enough to split over threads
/// (`Eigen::nbThreads() > 1`, only in OpenMP builds, `min_work_per_thread` multiply-adds per
/// thread; unless the Gemm was made with `threaded = false`) take Eigen's ordinary expression,
/// whose parallel GEMM shares buffers between threads. Two shapes take kernels of our own, built
/// from Eigen's packet primitives and chosen only where they measured faster than Eigen's GEMM:
/// few outputs over a long depth as dot products (`dot_products`), and, with AVX-512, products of
/// at least 4 packets of rows and at most 1024 of depth and columns as broadcasts
/// (`broadcast_products`; an A stored along the depth is first copied strip by strip).
/// This uses Eigen 3.3/3.4's internal product interface (namespace `Eigen::internal`).

#include <Eigen/Core>

#include <algorithm>
#include <type_traits>
#include <utility>

#include "eigenml/core.hpp"

namespace eigenml::detail {

template <class T>
class Gemm {
 public:
  /// `threaded`: with `Eigen::nbThreads() > 1`, let Eigen split each product over its threads.
  /// A caller issuing many small products (a convolution's one per sample) passes false: one
  /// fork/join per product cost more than the product (measured 10x slower at 2 threads).
  explicit Gemm(bool threaded = true) : threaded_(threaded) {}

  /// A copy (a layer copied into another model) takes the setting, not the scratch buffers: each
  /// Gemm fills its own on its first product, and none is copied only to be overwritten.
  Gemm(const Gemm& other) : threaded_(other.threaded_) {}
  Gemm& operator=(const Gemm& other) {
    threaded_ = other.threaded_;
    return *this;
  }

  /// C = alpha * A * B (`accumulate == false`) or C += alpha * A * B. A: m x k, B: k x n,
  /// C: m x n (sizes checked by Eigen's assertions in debug builds). Each of A, B, C is a dense
  /// expression with direct access and unit inner stride: a matrix, a vector, a `Map`, a block of
  /// rows or columns, or the `transpose()` of one of those (no copy is made: a transposed operand is
  /// read in the other storage order). C must not alias A or B.
  template <class DC, class DA, class DB>
  void run(DC&& C, const DA& A, const DB& B, T alpha = T(1), bool accumulate = false) {
    product(checked_view(C, A, B), view(A), view(B), alpha, accumulate, nullptr);
  }

  /// C = A B + 1 b^T: the product with the row vector b (C.cols() values, contiguous) added to
  /// each of its rows, as in a dense layer's Y = X W^T + 1 b^T. For a row-major C the broadcast
  /// kernels add b as they store C; every other case fills C with b and accumulates the product
  /// onto it through the other paths.
  template <class DC, class DA, class DB>
  void run_plus_bias(DC&& C, const DA& A, const DB& B, const T* b) {
    product(checked_view(C, A, B), view(A), view(B), T(1), false, b);
  }

  /// Bytes of packing buffer held (grows to the largest blocking seen, never shrinks).
  std::size_t capacity_bytes() const {
    return blocking_.capacity_bytes() + static_cast<std::size_t>(pack_.size()) * sizeof(T);
  }

 private:
  /// The fewest multiply-adds per thread for which a product is split over threads (~0.1 ms of
  /// one core's GEMM). Eigen splits any product above 50k multiply-adds per thread, and its fork,
  /// join and shared packing cost more than they save below this: W1's training step (products of
  /// 12.8M) measured 725 us at 2 threads against 546 us at 1, while its batch-256 inference
  /// (products of 51M) gains (946 -> 697 us).
  static constexpr Index min_work_per_thread = Index(1) << 24;

  /// A dense operand as pointer, shape, outer stride and storage order.
  template <class S>
  struct View {
    S* data;
    Index rows, cols, outer;
    bool row_major;

    /// The transpose: the same memory read in the other storage order.
    View t() const { return {data, cols, rows, outer, !row_major}; }
    /// Distance between consecutive elements of a column (along rows) and of a row (along cols).
    Index row_step() const { return row_major ? outer : 1; }
    Index col_step() const { return row_major ? 1 : outer; }
  };

  /// The view of C, once the operands' strides (at compile time) and shapes (in debug builds) are
  /// checked for C = A B.
  template <class DC, class DA, class DB>
  static View<T> checked_view(DC& C, [[maybe_unused]] const DA& A, [[maybe_unused]] const DB& B) {
    using CT = std::remove_cvref_t<DC>;
    static_assert(CT::InnerStrideAtCompileTime == 1 && DA::InnerStrideAtCompileTime == 1 &&
                      DB::InnerStrideAtCompileTime == 1,
                  "detail::Gemm needs operands with unit inner stride");
    eigen_assert(A.rows() == C.rows() && B.rows() == A.cols() && B.cols() == C.cols());
    return view(C);
  }

  template <class X>
  static auto view(X& x) {
    using S = std::remove_reference_t<decltype(*x.data())>;
    return View<S>{x.data(), x.rows(), x.cols(), x.outerStride(), (X::Flags & Eigen::RowMajorBit) != 0};
  }

  using Strided = Eigen::Map<const Vector<T>, 0, Eigen::InnerStride<>>;
  template <int Order>
  using ConstMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Order>, 0, Eigen::OuterStride<>>;
  using ColMajorMap =
      Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>, 0, Eigen::OuterStride<>>;

  /// C = alpha A B (+ C when accumulating) (+ 1 bias^T when bias is given, never with accumulate).
  void product(View<T> C, View<const T> A, View<const T> B, T alpha, bool accumulate, const T* bias) {
    // A row-major C is computed as the column-major C^T = B^T A^T, as Eigen itself does (its
    // row-major GEMM swaps the operands the same way), so C is column-major from here on, and
    // the bias (one value per column of C as given) then has one value per row.
    const bool bias_per_row = C.row_major;
    if (C.row_major) {
      const View<const T> At = A.t();
      A = B.t();
      B = At;
      C = C.t();
    }
    const Index m = C.rows, n = C.cols, k = A.cols;
    if (m == 0 || n == 0) return;
    const bool dots = A.row_major && !B.row_major && k >= 256 && m * n <= 8 * (m + n);
    [[maybe_unused]] bool threads = false;
#ifdef EIGEN_HAS_OPENMP
    threads = threaded_ && Eigen::nbThreads() > 1 && m * n * k >= Index(Eigen::nbThreads()) * min_work_per_thread;
#endif
#ifdef EIGEN_VECTORIZE_AVX512
    // Our broadcast kernels write C themselves, C = alpha A B + D, the addend D being C itself
    // (accumulating), the bias as a matrix of identical columns (outer stride 0) or nothing.
    // Every other path accumulates onto a C zeroed or filled with the bias first.
    if (!dots && !threads && n > 1 && k > 0 && m >= 4 * packet_size && k <= 1024 && n <= 1024 &&
        (!bias || bias_per_row)) {
      const View<const T> D{accumulate ? C.data : bias, m, n, accumulate ? C.outer : 0, false};
      if (!A.row_major) return broadcast_products(C, A, B, alpha, D);
      return packed_broadcast_products(C, A, B, alpha, D);
    }
#endif
    if (!accumulate) {
      ColMajorMap c(C.data, m, n, Eigen::OuterStride<>(C.outer));
      if (!bias)
        c.setZero();
      else if (bias_per_row)
        c.colwise() = Eigen::Map<const Vector<T>>(bias, m);
      else
        c.rowwise() = Eigen::Map<const Vector<T>>(bias, n).transpose();
    }
    if (k == 0) return;
    if (n == 1) return gemv(C.data, 1, A, B.data, B.row_step(), alpha);  // c += alpha A b
    if (m == 1) return gemv(C.data, C.outer, B.t(), A.data, A.col_step(), alpha);  // c^T += alpha B^T a^T
    if (m + n + k < 20) {  // tiny: column by column, each column as a vector result would be
      for (Index j = 0; j < n; ++j)
        gemv(C.data + j * C.outer, 1, A, B.data + j * B.col_step(), B.row_step(), alpha);
      return;
    }
    if (dots) return dot_products(C, A, B, alpha);
#ifdef EIGEN_HAS_OPENMP
    if (threads) return parallel(C, A, B, alpha);
#endif
    // Eigen's sequential GEMM uses the buffers the blocking object provides instead of its own.
    blocking_.prepare(m, n, k);
    if (A.row_major)
      gemm<Eigen::RowMajor>(C, A, B, alpha);
    else
      gemm<Eigen::ColMajor>(C, A, B, alpha);
  }

  /// C += alpha A B for a few outputs over a long depth, each operand contiguous along it (A
  /// row-major, B column-major): every entry of C is a dot product of a row of A and a column of
  /// B, computed straight from them, MR x NR entries at a time (each load of A feeds NR products,
  /// each load of B MR), without packing. The weight gradient of a convolution is this shape:
  /// W.grad += dY_n cols_n^T is (OC x P) (P x C k k) per sample, e.g. 8 x 784 x 9 for W2's first
  /// layer, where Eigen's GEMM spends most of its time packing both operands for 72 outputs.
  /// Chosen when k >= 256 and m n <= 8 (m + n): over 16 shapes of convolution gradients (float,
  /// AVX-512), it took 0.27-0.48x Eigen's time in that range (0.63-0.83x in double) and up to
  /// 2.3x outside it (many outputs or a short depth, where the reductions dominate).
  static void dot_products(const View<T>& C, const View<const T>& A, const View<const T>& B, T alpha) {
    constexpr int MR = 2, NR = 4;
    Index i = 0;
    for (; i + MR <= C.rows; i += MR) dot_rows<MR, NR>(C, A, B, alpha, i);
    for (; i < C.rows; ++i) dot_rows<1, NR>(C, A, B, alpha, i);
  }

  /// Rows i .. i+MR-1 of C, NR columns at a time, then the last n mod NR one by one.
  template <int MR, int NR>
  static void dot_rows(const View<T>& C, const View<const T>& A, const View<const T>& B, T alpha, Index i) {
    Index j = 0;
    for (; j + NR <= C.cols; j += NR) dot_block<MR, NR>(C, A, B, alpha, i, j);
    for (; j < C.cols; ++j) dot_block<MR, 1>(C, A, B, alpha, i, j);
  }

  /// C(i + r, j + c) += alpha A.row(i + r) . B.col(j + c) for r < MR, c < NR: MR x NR packet
  /// accumulators over the whole packets of the depth, each reduced once, then the depth's last
  /// k mod (packet size) terms in scalar. Every index into the accumulators is a compile-time
  /// constant (the fold over `each`), so they stay in registers.
  template <int MR, int NR>
  static void dot_block(const View<T>& C, const View<const T>& A, const View<const T>& B, T alpha, Index i, Index j) {
    namespace ei = Eigen::internal;
    using Packet = typename ei::packet_traits<T>::type;
    constexpr Index PS = ei::packet_traits<T>::size;
    auto each = []<int... I>(std::integer_sequence<int, I...>, auto&& f) { (f(std::integral_constant<int, I>{}), ...); };
    constexpr auto rows = std::make_integer_sequence<int, MR>{};
    constexpr auto cols = std::make_integer_sequence<int, NR>{};
    constexpr auto all = std::make_integer_sequence<int, MR * NR>{};
    const T* a = A.data + i * A.outer;
    const T* b = B.data + j * B.outer;
    const Index k = A.cols, kv = k / PS * PS;
    Packet acc[MR * NR], pa[MR], pb[NR];
    each(all, [&](auto I) { acc[I] = ei::pset1<Packet>(T(0)); });
    for (Index p = 0; p < kv; p += PS) {
      each(rows, [&](auto R) { pa[R] = ei::ploadu<Packet>(a + R * A.outer + p); });
      each(cols, [&](auto J) { pb[J] = ei::ploadu<Packet>(b + J * B.outer + p); });
      each(all, [&](auto I) { acc[I] = ei::pmadd(pa[I / NR], pb[I % NR], acc[I]); });
    }
    each(all, [&](auto I) {
      constexpr int r = I / NR, c = I % NR;
      T sum = ei::predux(acc[I]);
      for (Index p = kv; p < k; ++p) sum += a[r * A.outer + p] * b[c * B.outer + p];
      C.data[(i + r) + (j + c) * C.outer] += alpha * sum;
    });
  }

  static constexpr Index packet_size = Eigen::internal::packet_traits<T>::size;

  /// C = alpha A B + D, D (read once, as each block is stored) being C itself (C += alpha A B),
  /// a bias repeated across the columns (outer stride 0) or nothing (null data), with A
  /// column-major (contiguous down its columns, like C), without packing:
  /// C is computed in blocks of MP packets of rows by NR columns held in registers; for each of
  /// the k terms, MP packets of a column of A are loaded and each feeds NR multiply-adds with a
  /// value of B broadcast. Row strips (MP packets tall) go outermost, so a strip of A stays in
  /// cache while it meets every column block of B; rows left after whole packets go through the
  /// half (then quarter) packet, then scalar. Every convolution's forward product is this
  /// storage order: y_n^T = cols_n^T W^T (P x C k k, C k k x OC) per sample, and so are a
  /// dense layer's weight and input gradients (X^T dY, W^T dY^T).
  ///
  /// Chosen with AVX-512 only, for m >= 4 packets, k <= 1024 and n <= 1024 (a strip of A then
  /// stays in L2). On this project's AVX-512 machine, against Eigen 3.4's GEMM (float): W2's
  /// 196 x 16 x 72 0.58x its time, 784 x 8 x 9 0.60x, W1's 784 x 256 x 64 0.72x, 128 x 10 x 64
  /// 0.64x; 1024^3 still 0.81x; double 0.55-0.73x. Below 4 packets of rows the scalar tail loses
  /// (50 x 16 x 72: 1.2x). With AVX2's 16 registers (2 x 4 accumulators, a broadcast per 2
  /// multiply-adds) it measured 0.87-1.06x on these shapes but 3x at 1024^3, so Eigen's GEMM
  /// keeps those targets.
  static void broadcast_products(const View<T>& C, const View<const T>& A, const View<const T>& B, T alpha,
                                 const View<const T>& D) {
    broadcast_rows<typename Eigen::internal::packet_traits<T>::type>(C, A, B, alpha, D, 0);
  }

  // Accumulators per block: 3 packets x 8 columns, 24 of AVX-512's 32 vector registers.
  static constexpr int broadcast_mp = 3, broadcast_nr = 8;

// Eigen's half-packet types carry vector attributes that GCC drops (and warns about) when they
// are template arguments; nothing depends on them here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
  /// Rows i.. of C: whole strips of MP packets, then single packets, then the rest with the half
  /// packet (recursively), or in scalar once there is no smaller packet.
  template <class Packet>
  static void broadcast_rows(const View<T>& C, const View<const T>& A, const View<const T>& B, T alpha,
                             const View<const T>& D, Index i) {
    namespace ei = Eigen::internal;
    constexpr Index PS = ei::unpacket_traits<Packet>::size;
    using Half = typename ei::unpacket_traits<Packet>::half;
    for (; i + broadcast_mp * PS <= C.rows; i += broadcast_mp * PS)
      broadcast_strip<Packet, broadcast_mp>(C, A, B, alpha, D, i);
    for (; i + PS <= C.rows; i += PS) broadcast_strip<Packet, 1>(C, A, B, alpha, D, i);
    if constexpr (ei::unpacket_traits<Half>::size < PS) {
      broadcast_rows<Half>(C, A, B, alpha, D, i);
    } else {
      for (; i < C.rows; ++i)
        for (Index j = 0; j < C.cols; ++j) {
          T sum(0);
          for (Index p = 0; p < A.cols; ++p)
            sum += A.data[i + p * A.outer] * B.data[p * B.row_step() + j * B.col_step()];
          C.data[i + j * C.outer] = D.data ? alpha * sum + D.data[i + j * D.outer] : alpha * sum;
        }
    }
  }

  /// Rows i .. i + MP*PS - 1 of C against every column of B: NR columns at a time, then the last
  /// n mod NR as one block, whose MP (n mod NR) sums then run side by side (a column at a time
  /// would leave each block only MP sums to hide the multiply-add's latency behind).
  template <class Packet, int MP>
  static void broadcast_strip(const View<T>& C, const View<const T>& A, const View<const T>& B, T alpha,
                              const View<const T>& D, Index i) {
    Index j = 0;
    for (; j + broadcast_nr <= C.cols; j += broadcast_nr)
      broadcast_block<Packet, MP, broadcast_nr>(C, A, B, alpha, D, i, j);
    const Index rest = C.cols - j;
    [&]<int... R>(std::integer_sequence<int, R...>) {
      ((rest == R + 1 ? broadcast_block<Packet, MP, R + 1>(C, A, B, alpha, D, i, j) : void()), ...);
    }(std::make_integer_sequence<int, broadcast_nr - 1>{});
  }

  /// C(i .. i + MP*PS - 1, j .. j + NR - 1) = alpha A(those rows, :) B(:, those columns) + D(the
  /// same block), the k terms summed in order into MP x NR packet accumulators (compile-time
  /// indices, so they stay in registers; see `dot_block`).
  template <class Packet, int MP, int NR>
  static void broadcast_block(const View<T>& C, const View<const T>& A, const View<const T>& B, T alpha,
                              const View<const T>& D, Index i, Index j) {
    namespace ei = Eigen::internal;
    constexpr Index PS = ei::unpacket_traits<Packet>::size;
    auto each = []<int... I>(std::integer_sequence<int, I...>, auto&& f) { (f(std::integral_constant<int, I>{}), ...); };
    constexpr auto rows = std::make_integer_sequence<int, MP>{};
    constexpr auto all = std::make_integer_sequence<int, MP * NR>{};
    const Index b_row = B.row_step(), b_col = B.col_step();
    const T* a = A.data + i;
    const T* b = B.data + j * b_col;
    Packet acc[MP * NR], pa[MP];
    each(all, [&](auto I) { acc[I] = ei::pset1<Packet>(T(0)); });
    for (Index p = 0; p < A.cols; ++p, a += A.outer, b += b_row) {
      each(rows, [&](auto R) { pa[R] = ei::ploadu<Packet>(a + R * PS); });
      each(all, [&](auto I) { acc[I] = ei::pmadd(pa[I % MP], ei::pset1<Packet>(b[(I / MP) * b_col]), acc[I]); });
    }
    const Packet scale = ei::pset1<Packet>(alpha);
    auto at = [&](auto I, const auto& M) { return M.data + i + (I % MP) * PS + (j + I / MP) * M.outer; };
    if (D.data)
      each(all, [&](auto I) { ei::pstoreu(at(I, C), ei::pmadd(scale, acc[I], ei::ploadu<Packet>(at(I, D)))); });
    else
      each(all, [&](auto I) { ei::pstoreu(at(I, C), ei::pmul(scale, acc[I])); });
  }

  /// The same for a row-major A (contiguous along the depth, as a dense layer's weights are in
  /// its forward product X W^T): each strip of rows of A is first copied column-major into
  /// `pack_` (packet-square blocks through a register transpose), then multiplied as above; the
  /// copy is 1/n of the multiply-adds. Against Eigen 3.4's GEMM (AVX-512, this project's
  /// machine, best of 7, old and new alternating): float 256 x 784 x 256 (W1's first layer at
  /// batch 256) 0.64-0.73x its time, 256 x 784 x 64 0.65-0.76x, 512^3 0.62-0.77x, 1024^3
  /// 0.59-0.66x; double 256 x 784 x 256 0.58x, 512^3 0.55x. A column-major A copied the same way
  /// gained at 1024^3 (0.9x) and lost at W1's 784 x 256 x 64 (1.1x), so it is read in place.
  void packed_broadcast_products(const View<T>& C, const View<const T>& A, const View<const T>& B, T alpha,
                                 const View<const T>& D) {
    using Packet = typename Eigen::internal::packet_traits<T>::type;
    constexpr Index strip = broadcast_mp * packet_size;
    Index i = 0;
    for (; i + strip <= C.rows; i += strip)
      broadcast_strip<Packet, broadcast_mp>(rows_of(C, i, strip), pack_rows(A, i, strip), B, alpha,
                                            rows_of(D, i, strip), 0);
    if (i < C.rows) {
      const Index h = C.rows - i;
      broadcast_rows<Packet>(rows_of(C, i, h), pack_rows(A, i, h), B, alpha, rows_of(D, i, h), 0);
    }
  }

  /// Rows i .. i + h - 1 of the column-major M (none of none).
  template <class S>
  static View<S> rows_of(const View<S>& M, Index i, Index h) {
    return {M.data ? M.data + i : nullptr, h, M.cols, M.outer, false};
  }

  /// Rows i .. i + h - 1 of the row-major A copied into `pack_` as an h x k column-major matrix:
  /// packet-square blocks through a register transpose, the edges one value at a time.
  View<const T> pack_rows(const View<const T>& A, Index i, Index h) {
    namespace ei = Eigen::internal;
    using Packet = typename ei::packet_traits<T>::type;
    constexpr Index PS = packet_size;
    const Index k = A.cols;
    if (pack_.size() < h * k) pack_.resize(h * k);
    T* P = pack_.data();
    const T* a = A.data + i * A.outer;
    const Index whole = h / PS * PS;  // rows in whole packets
    for (Index r = 0; r < whole; r += PS) {
      Index p = 0;
      for (; p + PS <= k; p += PS) {
        ei::PacketBlock<Packet, PS> block;
        for (Index q = 0; q < PS; ++q) block.packet[q] = ei::ploadu<Packet>(a + (r + q) * A.outer + p);
        ei::ptranspose(block);
        for (Index q = 0; q < PS; ++q) ei::pstoreu(P + (p + q) * h + r, block.packet[q]);
      }
      for (; p < k; ++p)
        for (Index q = 0; q < PS; ++q) P[p * h + r + q] = a[(r + q) * A.outer + p];
    }
    for (Index r = whole; r < h; ++r) {
      const T* src = a + r * A.outer;
      T* dst = P + r;
      for (Index p = 0; p < k; ++p, dst += h) *dst = src[p];
    }
    return {P, h, k, h, false};
  }
#pragma GCC diagnostic pop

  /// y += alpha M x: y has `m` values `incy` apart, x has `k` values `incx` apart, M is m x k.
  /// Eigen's GEMV kernel for a row-major M reads x contiguous and writes y with a stride; for a
  /// column-major M the reverse. The other case goes through a buffer, as Eigen's own would.
  void gemv(T* y, Index incy, const View<const T>& M, const T* x, Index incx, T alpha) {
    using Eigen::internal::const_blas_data_mapper;
    using Eigen::internal::general_matrix_vector_product;
    using RowMapper = const_blas_data_mapper<T, Index, Eigen::RowMajor>;
    using ColMapper = const_blas_data_mapper<T, Index, Eigen::ColMajor>;
    const Index m = M.rows, k = M.cols;
    if (M.row_major) {
      if (incx != 1) {
        x_ = Strided(x, k, Eigen::InnerStride<>(incx));
        x = x_.data();
      }
      general_matrix_vector_product<Index, T, RowMapper, Eigen::RowMajor, false, T, ColMapper, false>::run(
          m, k, RowMapper(M.data, M.outer), ColMapper(x, 1), y, incy, alpha);
      return;
    }
    T* out = y;
    if (incy != 1) {
      y_ = Strided(y, m, Eigen::InnerStride<>(incy));
      out = y_.data();
    }
    general_matrix_vector_product<Index, T, ColMapper, Eigen::ColMajor, false, T, RowMapper, false>::run(
        m, k, ColMapper(M.data, M.outer), RowMapper(x, incx), out, 1, alpha);
    if (incy != 1) Eigen::Map<Vector<T>, 0, Eigen::InnerStride<>>(y, m, Eigen::InnerStride<>(incy)) = y_;
  }

  /// C += alpha A B by Eigen's sequential GEMM; C column-major.
  template <int OrderA>
  void gemm(const View<T>& C, const View<const T>& A, const View<const T>& B, T alpha) {
    auto run = [&]<int OrderB>(std::integral_constant<int, OrderB>) {
      Eigen::internal::general_matrix_matrix_product<Index, T, OrderA, false, T, OrderB, false, Eigen::ColMajor,
                                                     1>::run(C.rows, C.cols, A.cols, A.data, A.outer, B.data, B.outer,
                                                             C.data, 1, C.outer, alpha, blocking_, nullptr);
    };
    if (B.row_major)
      run(std::integral_constant<int, Eigen::RowMajor>{});
    else
      run(std::integral_constant<int, Eigen::ColMajor>{});
  }

#ifdef EIGEN_HAS_OPENMP
  /// C += alpha A B by Eigen's parallel GEMM (its own buffers, shared between its threads).
  static void parallel(const View<T>& C, const View<const T>& A, const View<const T>& B, T alpha) {
    ColMajorMap c(C.data, C.rows, C.cols, Eigen::OuterStride<>(C.outer));
    auto times_B = [&](const auto& a) {
      if (B.row_major)
        c.noalias() += alpha * a * ConstMap<Eigen::RowMajor>(B.data, B.rows, B.cols, Eigen::OuterStride<>(B.outer));
      else
        c.noalias() += alpha * a * ConstMap<Eigen::ColMajor>(B.data, B.rows, B.cols, Eigen::OuterStride<>(B.outer));
    };
    if (A.row_major)
      times_B(ConstMap<Eigen::RowMajor>(A.data, A.rows, A.cols, Eigen::OuterStride<>(A.outer)));
    else
      times_B(ConstMap<Eigen::ColMajor>(A.data, A.rows, A.cols, Eigen::OuterStride<>(A.outer)));
  }
#endif

  /// Eigen's blocking descriptor with buffers that persist across calls: Eigen's GEMM uses the
  /// buffers a blocking object provides instead of allocating its own.
  class Blocking : public Eigen::internal::level3_blocking<T, T> {
   public:
    Blocking() = default;
    Blocking(const Blocking&) = delete;  // its pointers are into its own buffers (see Gemm's copy)
    Blocking& operator=(const Blocking&) = delete;

    /// Blocking sizes for the column-major product (m x k) (k x n) and buffers large enough.
    void prepare(Index m, Index n, Index k) {
      Index kc = k, mc = m, nc = n;
      Eigen::internal::computeProductBlockingSizes<T, T, 1>(kc, mc, nc, Index(1));
      this->m_kc = kc;
      this->m_mc = mc;
      this->m_nc = nc;
      // Eigen's sequential GEMM uses min(mc, m) x kc and kc x min(nc, n) of the buffers.
      const Index sa = std::min(mc, m) * kc, sb = kc * std::min(nc, n);
      if (a_.size() < sa) a_.resize(sa);
      if (b_.size() < sb) b_.resize(sb);
      this->m_blockA = a_.data();
      this->m_blockB = b_.data();
    }

    std::size_t capacity_bytes() const { return static_cast<std::size_t>(a_.size() + b_.size()) * sizeof(T); }

   private:
    Eigen::Matrix<T, Eigen::Dynamic, 1> a_, b_;  // Eigen-aligned packing buffers
  };

  Blocking blocking_;
  Vector<T> x_, y_;  // a strided GEMV operand gathered contiguous (rare: see gemv)
  Vector<T> pack_;   // a strip of a row-major A, column-major (see packed_broadcast_products)
  [[maybe_unused]] bool threaded_;  // read only in OpenMP builds
};

}  // namespace eigenml::detail
