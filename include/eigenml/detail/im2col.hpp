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

/// cols = im2col of the samples `first .. first+count-1` of `X` (`N x g.in_size()`): writes columns
/// `0 .. count*P-1` of `cols` (`g.patch_size()` rows, at least `count*P` columns; the row stride is
/// `cols.cols()`), sample `first + m` in columns `m*P .. (m+1)*P-1`.
template <class T>
void im2col(const Matrix<T>& X, Index first, Index count, const WindowGeometry& g, Matrix<T>& cols) {
  const Index P = g.out_pixels(), k = g.kernel, s = g.stride, p = g.padding;
  const Index H = g.height, W = g.width, Ho = g.out_height, Wo = g.out_width;
  const Index ld = cols.cols();
  for (Index m = 0; m < count; ++m) {
    const T* x = X.data() + (first + m) * X.cols();  // one sample stays hot while its C*k*k rows fill
    for (Index c = 0; c < g.channels; ++c) {
      const T* plane = x + c * H * W;
      for (Index i = 0; i < k; ++i) {
        Index oh_lo, oh_hi;
        valid_range(H, Ho, s, p, i, oh_lo, oh_hi);
        for (Index j = 0; j < k; ++j) {
          Index ow_lo, ow_hi;
          valid_range(W, Wo, s, p, j, ow_lo, ow_hi);
          T* dst = cols.data() + ((c * k + i) * k + j) * ld + m * P;
          std::fill(dst, dst + oh_lo * Wo, T(0));
          for (Index oh = oh_lo; oh < oh_hi; ++oh) {
            T* d = dst + oh * Wo;
            // plane[base + ow*s] = X(n, c, oh*s - p + i, ow*s - p + j), in bounds for ow in [ow_lo, ow_hi)
            const Index base = (oh * s - p + i) * W + (j - p);
            std::fill(d, d + ow_lo, T(0));
            if (ow_lo == ow_hi) {
              // the whole row of taps lies in the padding (filled below)
            } else if (s == 1) {
              std::copy(plane + base + ow_lo, plane + base + ow_hi, d + ow_lo);
            } else {
              for (Index ow = ow_lo; ow < ow_hi; ++ow) d[ow] = plane[base + ow * s];
            }
            std::fill(d + ow_hi, d + Wo, T(0));
          }
          std::fill(dst + oh_hi * Wo, dst + P, T(0));
        }
      }
    }
  }
}

/// dX = col2im(dcols), the adjoint of im2col, for the samples `first .. first+count-1`: rows
/// `first .. first+count-1` of `dX` (`N x g.in_size()`, already sized) are overwritten with the sum
/// of every column entry at the input position it was copied from (overlapping windows
/// accumulate; entries from the padding are dropped). `dcols` is laid out as im2col writes it.
template <class T>
void col2im(const Matrix<T>& dcols, const WindowGeometry& g, Index first, Index count, Matrix<T>& dX) {
  using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
  const Index P = g.out_pixels(), k = g.kernel, s = g.stride, p = g.padding;
  const Index H = g.height, W = g.width, Ho = g.out_height, Wo = g.out_width;
  const Index ld = dcols.cols();
  dX.middleRows(first, count).setZero();
  for (Index m = 0; m < count; ++m) {
    T* x = dX.data() + (first + m) * dX.cols();
    for (Index c = 0; c < g.channels; ++c) {
      T* plane = x + c * H * W;
      for (Index i = 0; i < k; ++i) {
        Index oh_lo, oh_hi;
        valid_range(H, Ho, s, p, i, oh_lo, oh_hi);
        for (Index j = 0; j < k; ++j) {
          Index ow_lo, ow_hi;
          valid_range(W, Wo, s, p, j, ow_lo, ow_hi);
          if (ow_lo == ow_hi) continue;  // every tap of this (i, j) reads padding
          const T* src = dcols.data() + ((c * k + i) * k + j) * ld + m * P;
          for (Index oh = oh_lo; oh < oh_hi; ++oh) {
            const T* d = src + oh * Wo;
            const Index base = (oh * s - p + i) * W + (j - p);
            if (s == 1)  // contiguous: a vectorised add (the two ranges never overlap)
              Eigen::Map<Arr>(plane + base + ow_lo, ow_hi - ow_lo) += Eigen::Map<const Arr>(d + ow_lo, ow_hi - ow_lo);
            else
              for (Index ow = ow_lo; ow < ow_hi; ++ow) plane[base + ow * s] += d[ow];
          }
        }
      }
    }
  }
}

}  // namespace eigenml::detail
