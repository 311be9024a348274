#pragma once
/// \file detail/minibatch.hpp
/// Mini-batch bookkeeping shared by the iterative fits of the linear models: a seeded row order
/// per epoch and row gathering into caller-owned buffers, so a steady-state step allocates nothing.

#include <algorithm>
#include <numeric>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/random.hpp"

namespace eigenml::detail {

/// Rows per chunk for a fused pass over a row-major n x d matrix: about 64 KiB of doubles, so a
/// chunk read once from memory stays in L2 for the second product over it (at least 16 rows).
inline Index cache_chunk_rows(Index d) { return std::max<Index>(16, Index(8192) / std::max<Index>(d, 1)); }

/// The row order of one fit. `batch_rows` is min(batch_size, n) (n for batch_size = 0). A full
/// batch is never gathered (the gradient is a sum over all rows, so the order is irrelevant);
/// mini-batches are reshuffled before every epoch when `shuffle` is on, else taken in order.
class MiniBatches {
 public:
  MiniBatches(Index n, const TrainOptions& options)
      : n_(n),
        batch_rows_(options.batch_size == 0 ? n : std::min<Index>(options.batch_size, n)),
        shuffle_(options.shuffle && batch_rows_ < n),
        rng_(options.seed),
        order_(static_cast<std::size_t>(n)) {
    std::iota(order_.begin(), order_.end(), Index(0));
  }

  Index batch_rows() const { return batch_rows_; }
  bool full_batch() const { return batch_rows_ == n_; }
  /// Rows must be copied into a buffer (shuffled order); otherwise a batch is a contiguous block.
  bool gathers() const { return shuffle_; }
  Index batches_per_epoch() const { return (n_ + batch_rows_ - 1) / batch_rows_; }

  /// Call before each epoch.
  void start_epoch() {
    if (shuffle_) rng_.shuffle(order_.begin(), order_.end());
  }

  /// First row position and size of batch `b` of the epoch.
  Index begin(Index b) const { return b * batch_rows_; }
  Index size(Index b) const { return std::min(batch_rows_, n_ - b * batch_rows_); }

  /// Copies the rows of batch `b` (in the epoch's order) into the top rows of `dst`.
  template <class Src, class Dst>
  void gather(Index b, const Src& src, Dst& dst) const {
    const Index start = begin(b), m = size(b);
    for (Index k = 0; k < m; ++k) dst.row(k) = src.row(order_[static_cast<std::size_t>(start + k)]);
  }

  /// Copies the entries of batch `b` of a vector into the head of `dst`.
  template <class Src, class Dst>
  void gather_vector(Index b, const Src& src, Dst& dst) const {
    const Index start = begin(b), m = size(b);
    for (Index k = 0; k < m; ++k) dst(k) = src(order_[static_cast<std::size_t>(start + k)]);
  }

 private:
  Index n_;
  Index batch_rows_;
  bool shuffle_;
  Rng rng_;
  std::vector<Index> order_;
};

}  // namespace eigenml::detail
