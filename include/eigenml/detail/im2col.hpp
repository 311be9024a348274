#pragma once
/// \file detail/im2col.hpp
/// The geometry of a 2-D sliding window (convolution or pooling) over an image batch, and the
/// im2col / col2im rearrangements that turn a convolution into one matrix product per batch.
///
/// Layouts (everything row-major):
///  - an image batch `X` is `N x (C*H*W)`, each row one sample's `C x H x W` values in C order;
///  - the column matrix `cols` is `(C*k*k) x (N*P)` with `P = H_out*W_out`: row `r = (c*k + i)*k + j`
///    holds, for every sample `n` and output pixel `(oh, ow)`, the input value under kernel tap
///    `(c, i, j)`: `cols(r, n*P + oh*W_out + ow) = X(n, c, oh*s - p + i, ow*s - p + j)`, or 0 where that
///    position lies in the zero padding.
/// Sample-major blocks of `P` columns keep both the writes of im2col and the reads of col2im
/// contiguous, and make a convolution `W (OC x C*k*k) * cols` a single GEMM for a whole batch (or
/// for a chunk of samples: both functions work on a range of samples).

#include <algorithm>

#include "eigenml/core.hpp"

namespace eigenml::detail {

/// A `kernel x kernel` window moved by `stride` over a zero-padded `channels x height x width`
/// image. `out_height = (height + 2*padding - kernel) / stride + 1` (floor), likewise `out_width`.
struct WindowGeometry {
  Index channels = 0;
  Index height = 0;
  Index width = 0;
  Index kernel = 0;
  Index stride = 1;
  Index padding = 0;
  Index out_height = 0;
  Index out_width = 0;

  WindowGeometry() = default;
  WindowGeometry(Index c, Index h, Index w, Index k, Index s, Index p)
      : channels(c), height(h), width(w), kernel(k), stride(s), padding(p),
        out_height((h + 2 * p - k) / s + 1), out_width((w + 2 * p - k) / s + 1) {}

  Index in_size() const { return channels * height * width; }  ///< values per input sample
  Index out_pixels() const { return out_height * out_width; }  ///< P: output pixels per channel
  Index patch_size() const { return channels * kernel * kernel; }
};

/// Output positions `o` in `[lo, hi)` whose tap at kernel offset `t` lands inside the input
/// (`0 <= o*stride - padding + t < in`); outside that range the tap reads zero padding.
inline void valid_range(Index in, Index out, Index stride, Index padding, Index t, Index& lo, Index& hi) {
  const Index first = padding - t;  // o*stride must be >= first
  lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const Index last = in - 1 + padding - t;  // o*stride must be <= last
  hi = last < 0 ? 0 : std::min(out, last / stride + 1);
  lo = std::min(lo, hi);
}

/// Zeroes columns [0, lo) and [hi, width) of rows [row_lo, row_hi) of the row-major `rows x width`
/// block at `d`. Column by column: the stores are strided, so GCC does not turn each row's one or
/// two stores into a call to memset (which it did, at ~15% of a convolution).
template <class T>
void zero_columns(T* d, Index width, Index row_lo, Index row_hi, Index lo, Index hi) {
  for (Index col = 0; col < lo; ++col)
    for (Index r = row_lo; r < row_hi; ++r) d[r * width + col] = T(0);
  for (Index col = hi; col < width; ++col)
    for (Index r = row_lo; r < row_hi; ++r) d[r * width + col] = T(0);
}

/// One kernel tap `(c, i, j)` of sample `m` (counted from the first sample of the range): its row
/// of `cols` and the output rows `[oh_lo, oh_hi)` and columns `[ow_lo, ow_hi)` whose tap lands
/// inside the image (elsewhere it reads zero padding).
struct Tap {
  Index m, c, i, j;
  Index row;  // (c*k + i)*k + j
  Index oh_lo, oh_hi, ow_lo, ow_hi;
};

/// Calls `f(tap)` for every tap of `count` samples, sample by sample, channel by channel, `i`
/// then `j` (the order of the rows of `cols`): one sample stays hot while its rows are visited.
template <class F>
void for_each_tap(const WindowGeometry& g, Index count, F&& f) {
  const Index k = g.kernel;
  for (Index m = 0; m < count; ++m)
    for (Index c = 0; c < g.channels; ++c)
      for (Index i = 0; i < k; ++i) {
        Index oh_lo, oh_hi;
        valid_range(g.height, g.out_height, g.stride, g.padding, i, oh_lo, oh_hi);
        for (Index j = 0; j < k; ++j) {
          Index ow_lo, ow_hi;
          valid_range(g.width, g.out_width, g.stride, g.padding, j, ow_lo, ow_hi);
          f(Tap{m, c, i, j, (c * k + i) * k + j, oh_lo, oh_hi, ow_lo, ow_hi});
        }
      }
}

/// A "same" convolution: stride 1 and `W_out == W` (3x3 with padding 1, 5x5 with padding 2, ...).
inline bool is_same_convolution(const WindowGeometry& g) { return g.stride == 1 && g.out_width == g.width; }

/// In a "same" convolution, tap `t` of output pixel `q = oh*W + ow` reads `plane[q + shift]`; the
/// pixels `[begin, end)` are those whose read lies inside the plane (the first and last few of
/// them are padding columns of their output row, see `zero_columns`).
struct ShiftedSpan {
  Index shift, begin, end;
};
/// Both ends are clamped to P: a tap whose every output row lies in the padding (oh_lo = oh_hi =
/// H_out, e.g. an image 1 pixel high) would otherwise begin past the row's end (found by the
/// model-file fuzz test).
inline ShiftedSpan shifted_span(const WindowGeometry& g, const Tap& t) {
  const Index W = g.width, p = g.padding, P = g.out_pixels();
  const Index begin = std::min(P, t.oh_lo * W + std::max<Index>(0, p - t.j));
  return {(t.i - p) * W + (t.j - p), begin, std::min(P, std::max(begin, t.oh_hi * W - std::max<Index>(0, t.j - p)))};
}

/// cols = im2col of the samples `first .. first+count-1` of `X` (`N x g.in_size()`): writes columns
/// `0 .. count*P-1` of `cols` (`g.patch_size()` rows, at least `count*P` columns; the row stride is
/// `cols.cols()`), sample `first + m` in columns `m*P .. (m+1)*P-1`.
///
/// In a "same" convolution each tap's row of `cols` is one contiguous copy of the plane, shifted
/// (`shifted_span`), and only the few columns that fall in the left/right padding are zeroed
/// afterwards. The copy and the zeros go through `std::copy` / `std::fill` (memmove / memset):
/// Eigen's assignment to a `Map` first steps to an aligned address in scalar code, 1.4x the time
/// on W2's 8 -> 16 convolution (72 rows of 196 values per sample). Otherwise rows are copied one output row at a time (a copy of `W_out` values each,
/// which for small images costs more in calls than in data).
template <class T>
void im2col(const Matrix<T>& X, Index first, Index count, const WindowGeometry& g, Matrix<T>& cols) {
  const Index P = g.out_pixels(), s = g.stride, p = g.padding, W = g.width, Wo = g.out_width;
  const bool same = is_same_convolution(g);
  for_each_tap(g, count, [&](const Tap& t) {
    const T* plane = X.data() + (first + t.m) * X.cols() + t.c * g.height * W;
    T* dst = cols.data() + t.row * cols.cols() + t.m * P;
    if (same) {
      const auto [shift, begin, end] = shifted_span(g, t);
      std::fill(dst, dst + begin, T(0));
      if (end > begin) std::copy(plane + begin + shift, plane + end + shift, dst + begin);
      std::fill(dst + end, dst + P, T(0));
      zero_columns(dst, Wo, t.oh_lo, t.oh_hi, t.ow_lo, t.ow_hi);
      return;
    }
    std::fill(dst, dst + t.oh_lo * Wo, T(0));
    for (Index oh = t.oh_lo; oh < t.oh_hi; ++oh) {
      T* d = dst + oh * Wo;
      // plane[base + ow*s] = X(n, c, oh*s - p + i, ow*s - p + j), in bounds for ow in [ow_lo, ow_hi)
      const Index base = (oh * s - p + t.i) * W + (t.j - p);
      std::fill(d, d + t.ow_lo, T(0));
      if (t.ow_lo == t.ow_hi) {
        // the whole row of taps lies in the padding (filled below)
      } else if (s == 1) {
        std::copy(plane + base + t.ow_lo, plane + base + t.ow_hi, d + t.ow_lo);
      } else {
        for (Index ow = t.ow_lo; ow < t.ow_hi; ++ow) d[ow] = plane[base + ow * s];
      }
      std::fill(d + t.ow_hi, d + Wo, T(0));
    }
    std::fill(dst + t.oh_hi * Wo, dst + P, T(0));
  });
}

/// dX = col2im(dcols), the adjoint of im2col, for the samples `first .. first+count-1`: rows
/// `first .. first+count-1` of `dX` (`N x g.in_size()`, already sized) are overwritten with the sum
/// of every column entry at the input position it was copied from (overlapping windows
/// accumulate; entries from the padding are dropped). `dcols` is laid out as im2col writes it;
/// its padding entries may be overwritten.
///
/// In a "same" convolution each tap's row is added back as one contiguous shifted block; its
/// entries that im2col would have taken from the left/right padding are zeroed first (`dcols` is
/// overwritten there), so they add nothing where the shifted block lands on a neighbouring row.
/// Every input position receives the same terms in the same order as row by row, so the sums are
/// the same.
template <class T>
void col2im(Matrix<T>& dcols, const WindowGeometry& g, Index first, Index count, Matrix<T>& dX) {
  using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
  const Index P = g.out_pixels(), s = g.stride, p = g.padding, W = g.width, Wo = g.out_width;
  const bool same = is_same_convolution(g);
  dX.middleRows(first, count).setZero();
  for_each_tap(g, count, [&](const Tap& t) {
    T* plane = dX.data() + (first + t.m) * dX.cols() + t.c * g.height * W;
    T* src = dcols.data() + t.row * dcols.cols() + t.m * P;
    if (same) {
      zero_columns(src, Wo, t.oh_lo, t.oh_hi, t.ow_lo, t.ow_hi);
      const auto [shift, begin, end] = shifted_span(g, t);
      Eigen::Map<Arr>(plane + begin + shift, end - begin) += Eigen::Map<const Arr>(src + begin, end - begin);
      return;
    }
    if (t.ow_lo == t.ow_hi) return;  // every tap of this (i, j) reads padding
    for (Index oh = t.oh_lo; oh < t.oh_hi; ++oh) {
      const T* d = src + oh * Wo;
      const Index base = (oh * s - p + t.i) * W + (t.j - p);
      if (s == 1)  // contiguous: a vectorised add (the two ranges never overlap)
        Eigen::Map<Arr>(plane + base + t.ow_lo, t.ow_hi - t.ow_lo) += Eigen::Map<const Arr>(d + t.ow_lo, t.ow_hi - t.ow_lo);
      else
        for (Index ow = t.ow_lo; ow < t.ow_hi; ++ow) plane[base + ow * s] += d[ow];
    }
  });
}

}  // namespace eigenml::detail
