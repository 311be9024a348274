#pragma once
/// \file detail/gemm.hpp
/// `detail::Gemm<T>`: a matrix product `C = alpha A B` (or `C += alpha A B`) through Eigen's own
/// GEMM kernel, with the packing buffers owned by the caller and reused from call to call.
///
/// Why: for every product above `EIGEN_STACK_ALLOCATION_LIMIT` (128 KB of packed panels, e.g. a
/// float 64 x 784 x 256 layer), `C.noalias() = A * B` allocates its two packing buffers on the heap
/// and frees them on return. With glibc the freed block sits at the top of the heap, is trimmed back
/// to the system, and the next call faults the pages in again: a page fault per 4 KiB of panel on
/// every product of a training step, and heap allocation in a step that must allocate nothing.
/// A layer owns one `Gemm` per product site; the buffers grow to the largest blocking seen and are
/// then reused, so a steady-state step neither allocates nor faults.
///
/// What runs is exactly Eigen's product: the same cache blocking (`computeProductBlockingSizes`),
/// the same packing and micro-kernel (`general_matrix_matrix_product`), so results are identical to
/// `C.noalias() = alpha * A * B`. Products Eigen would not send to GEMM (a vector result, or a tiny
/// one that Eigen evaluates coefficient-wise) and multi-threaded runs (`Eigen::nbThreads() > 1`,
/// where Eigen's parallel GEMM shares buffers between threads; unless the Gemm was made with
/// `threaded = false`) take Eigen's ordinary expression.
/// This uses Eigen 3.3/3.4's internal product interface (namespace `Eigen::internal`).

#include <Eigen/Core>

#include <algorithm>
#include <type_traits>

#include "eigenml/core.hpp"

namespace eigenml::detail {

template <class T>
class Gemm {
 public:
  /// `threaded`: with `Eigen::nbThreads() > 1`, let Eigen split each product over its threads.
  /// A caller issuing many small products (a convolution's one per sample) passes false: one
  /// fork/join per product cost more than the product (measured 10x slower at 2 threads).
  explicit Gemm(bool threaded = true) : threaded_(threaded) {}

  /// C = alpha * A * B (`accumulate == false`) or C += alpha * A * B. A: m x k, B: k x n,
  /// C: m x n (sizes checked by Eigen's assertions in debug builds). Each of A, B, C is a dense
  /// expression with direct access and unit inner stride: a matrix, a `Map`, a block of rows or
  /// columns, or the `transpose()` of one of those (no copy is made: a transposed operand is read
  /// in the other storage order). C must not alias A or B.
  template <class DC, class DA, class DB>
  void run(DC&& C, const DA& A, const DB& B, T alpha = T(1), bool accumulate = false) {
    using CT = std::remove_cvref_t<DC>;
    static_assert(CT::InnerStrideAtCompileTime == 1 && DA::InnerStrideAtCompileTime == 1 &&
                      DB::InnerStrideAtCompileTime == 1,
                  "detail::Gemm needs operands with unit inner stride");
    const Index m = C.rows(), n = C.cols(), k = A.cols();
    eigen_assert(A.rows() == m && B.rows() == k && B.cols() == n);
    if (m == 0 || n == 0) return;
    // Where Eigen's own product takes another path (GEMV, coefficient-wise, threads), use it.
    if (k == 0 || m == 1 || n == 1 || m + n + k < 20 || (threaded_ && Eigen::nbThreads() > 1)) {
      if (accumulate)
        C.noalias() += alpha * A * B;
      else
        C.noalias() = alpha * A * B;
      return;
    }
    if (!accumulate) C.setZero();
    constexpr int RowMajorC = (CT::Flags & Eigen::RowMajorBit) ? Eigen::RowMajor : Eigen::ColMajor;
    constexpr int RowMajorA = (DA::Flags & Eigen::RowMajorBit) ? Eigen::RowMajor : Eigen::ColMajor;
    constexpr int RowMajorB = (DB::Flags & Eigen::RowMajorBit) ? Eigen::RowMajor : Eigen::ColMajor;
    // Eigen computes a row-major C as the column-major C^T = B^T A^T: its blocking is then sized
    // for the transposed problem (rows and columns swapped), as Eigen's gemm_blocking_space does.
    blocking_.prepare(RowMajorC == Eigen::RowMajor ? n : m, RowMajorC == Eigen::RowMajor ? m : n, k);
    Eigen::internal::general_matrix_matrix_product<Index, T, RowMajorA, false, T, RowMajorB, false, RowMajorC,
                                                   1>::run(m, n, k, A.data(), A.outerStride(), B.data(),
                                                           B.outerStride(), C.data(), 1, C.outerStride(), alpha,
                                                           blocking_, nullptr);
  }

  /// Bytes of packing buffer held (grows to the largest blocking seen, never shrinks).
  std::size_t capacity_bytes() const { return blocking_.capacity_bytes(); }

 private:
  /// Eigen's blocking descriptor with buffers that persist across calls: Eigen's GEMM uses the
  /// buffers a blocking object provides instead of allocating its own.
  class Blocking : public Eigen::internal::level3_blocking<T, T> {
   public:
    Blocking() = default;
    // A copy gets its own (empty) buffers: two layers must never share packing space.
    Blocking(const Blocking&) : Blocking() {}
    Blocking& operator=(const Blocking&) { return *this; }

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
  bool threaded_;
};

}  // namespace eigenml::detail
