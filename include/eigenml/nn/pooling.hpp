#pragma once
/// \file nn/pooling.hpp
/// `nn::MaxPool2D` and `nn::AvgPool2D`: 2-D pooling over `kernel x kernel` windows moved by
/// `stride` over each channel of an image batch, with optional padding, as PyTorch's
/// `nn.MaxPool2d` / `nn.AvgPool2d` (defaults: `ceil_mode=False`, `count_include_pad=True`).

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"
#include "eigenml/detail/im2col.hpp"
#include "eigenml/nn/layer.hpp"

namespace eigenml::nn {

/// Options of `MaxPool2D` and `AvgPool2D`. All fields but `padding` are required (> 0);
/// `padding <= kernel / 2`, so every window overlaps the image.
struct Pool2DOptions {
  int channels = 0;  ///< C
  int height = 0;    ///< H
  int width = 0;     ///< W
  int kernel = 0;    ///< k: the window is k x k
  int stride = 0;    ///< s
  int padding = 0;   ///< p: padding on every side (never wins a max; zeros for an average)
};

namespace detail_pool {

inline detail::WindowGeometry make_geometry(const Pool2DOptions& o, const char* where) {
  auto positive = [&](int v, const char* field) {
    detail::require(v > 0, where, field, "must be > 0, got " + std::to_string(v));
  };
  positive(o.channels, "channels");
  positive(o.height, "height");
  positive(o.width, "width");
  positive(o.kernel, "kernel");
  positive(o.stride, "stride");
  detail::require(o.padding >= 0 && o.padding <= o.kernel / 2, where, "padding",
                  "must be in 0..kernel/2 = 0.." + std::to_string(o.kernel / 2) + ", got " + std::to_string(o.padding));
  const Index ph = Index(o.height) + 2 * Index(o.padding), pw = Index(o.width) + 2 * Index(o.padding);
  detail::require(o.kernel <= ph && o.kernel <= pw, where, "kernel",
                  std::to_string(o.kernel) + " is larger than the padded input " + std::to_string(ph) + "x" +
                      std::to_string(pw) + " (height/width + 2*padding): the output would be empty");
  return detail::WindowGeometry(o.channels, o.height, o.width, o.kernel, o.stride, o.padding);
}

/// Rows [lo, hi) of the input covered by the window of output row `o` (padding excluded).
inline void window(Index o, Index stride, Index padding, Index kernel, Index in, Index& lo, Index& hi) {
  const Index start = o * stride - padding;
  lo = start < 0 ? 0 : start;
  hi = start + kernel > in ? in : start + kernel;
}

/// Calls `f(kc)` with `kc` a `std::integral_constant<int, K>`: K = the kernel size for the common
/// kernels 2 and 3, else 0 (size known only at run time).
template <class F>
void dispatch_kernel(Index kernel, F&& f) {
  switch (kernel) {
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 3: f(std::integral_constant<int, 3>{}); break;
    default: f(std::integral_constant<int, 0>{}); break;
  }
}

/// For every output position (oh, ow) of one channel plane, in row-major order, calls
/// `visit(out, first, each)` with `out = oh*W_out + ow`, `first` the input offset `ih*W + iw` of the
/// window's first position inside the image, and `each(f)` a function that calls `f(at)` for every
/// input offset `at` of the window inside the image, in row-major window order.
/// Windows that lie wholly inside the image take a loop with the compile-time size K (when
/// K > 0): with run-time bounds of 2 or 3, loop overhead dominated the work (measured 2-5x
/// slower for 2x2 windows).
template <int K, class Visit>
void for_each_window(const detail::WindowGeometry& g, Visit&& visit) {
  const Index k = g.kernel, s = g.stride, p = g.padding, W = g.width;
  for (Index oh = 0; oh < g.out_height; ++oh) {
    Index ih_lo, ih_hi;
    window(oh, s, p, k, g.height, ih_lo, ih_hi);
    for (Index ow = 0; ow < g.out_width; ++ow) {
      Index iw_lo, iw_hi;
      window(ow, s, p, k, W, iw_lo, iw_hi);
      const bool full = K > 0 && ih_hi - ih_lo == K && iw_hi - iw_lo == K;
      auto each = [&](auto&& f) {
        if constexpr (K > 0) {
          if (full) {
            const Index base = ih_lo * W + iw_lo;
            for (Index i = 0; i < K; ++i)
              for (Index j = 0; j < K; ++j) f(base + i * W + j);
            return;
          }
        }
        for (Index ih = ih_lo; ih < ih_hi; ++ih)
          for (Index iw = iw_lo; iw < iw_hi; ++iw) f(ih * W + iw);
      };
      visit(oh * g.out_width + ow, ih_lo * W + iw_lo, each);
    }
  }
}

}  // namespace detail_pool

/// Max pooling. Input `N x (C*H*W)`, output `N x (C*H_out*W_out)` (C order), with
/// `H_out = floor((H + 2p - k)/s) + 1`:
///
///     Y(n, c, y, x) = max over the window's positions inside the image of X(n, c, ., .)
///
/// Padding never wins (it acts as -inf). Backward routes each output's gradient to the input
/// position that won its max (ties: the first in row-major window order, as PyTorch; a NaN in a
/// window wins); overlapping windows (`stride < kernel`) accumulate.
template <class T>
class MaxPool2D : public LayerBase<MaxPool2D<T>, T> {
 public:
  using Options = Pool2DOptions;

  explicit MaxPool2D(const Pool2DOptions& options)
      : options_(options), geom_(detail_pool::make_geometry(options, "MaxPool2D")) {
    // argmax positions are stored as 32-bit offsets within a sample's row
    detail::require(geom_.in_size() <= std::numeric_limits<std::int32_t>::max(), "MaxPool2D", "channels",
                    "x height x width = " + std::to_string(geom_.in_size()) + " exceeds 2^31 - 1 values per sample");
  }

  const Matrix<T>& forward(const Matrix<T>& X) override {
    detail::check_cols("MaxPool2D::forward", "X", X, input_size());
    const Index N = X.rows(), Q = geom_.channels * geom_.out_pixels();
    Y_.resize(N, Q);
    argmax_.resize(N, Q);
    // Loops of a compile-time size for the most common pooling, 2 x 2 with stride 2 (one more
    // such instance, 3 x 3 / stride 2, cost ~2 s of compile time in every program using it).
    if (geom_.kernel == 2 && geom_.stride == 2)
      max_planes<2, 2>(X, Y_, argmax_, geom_);
    else
      max_planes<0, 0>(X, Y_, argmax_, geom_);
    batch_ = N;
    return Y_;
  }

  /// dX(n, argmax(n, q)) += dY(n, q) for every output q.
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    if (batch_ < 0) detail::fail("MaxPool2D::backward", "called before forward");
    detail::check_rows("MaxPool2D::backward", "dY", dY.rows(), "the last forward's X", batch_);
    detail::check_cols("MaxPool2D::backward", "dY", dY, argmax_.cols());
    const Index N = dY.rows(), Q = dY.cols();
    dX_.resize(N, input_size());
    for (Index n = 0; n < N; ++n) {
      const T* dy = dY.data() + n * Q;
      const std::int32_t* a = argmax_.data() + n * Q;
      T* dx = dX_.data() + n * dX_.cols();
      // Zeroed sample by sample, so the additions find the row in cache (zeroing the whole batch
      // first, 1.6 MB for W2's first pooling at batch 64, made this pass twice as slow).
      std::fill(dx, dx + dX_.cols(), T(0));
      for (Index q = 0; q < Q; ++q) dx[a[q]] += dy[q];
    }
    return dX_;
  }

  std::string name() const override { return "MaxPool2D"; }
  Index input_size() const override { return geom_.in_size(); }
  Index output_size(Index /*input_size*/) const override { return geom_.channels * geom_.out_pixels(); }
  const Pool2DOptions& options() const { return options_; }
  Index out_height() const { return geom_.out_height; }
  Index out_width() const { return geom_.out_width; }

 private:
  using IndexMatrix = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  /// Y = max over each window, A = the offset (within the sample's row) of its winner, for
  /// K x K windows moved by S (K or S = 0: known only at run time).
  ///
  /// PyTorch's rule: start at -inf (at the window's first position) and take a value if it is
  /// larger or NaN, so ties keep the first maximum in row-major window order and the last NaN
  /// wins. For windows inside the image of a sample without NaN that is: start at the first
  /// position and take strictly larger values, branch-free, with no NaN test; with K and S known
  /// at compile time the taps unroll and the loop over a row of outputs vectorises. Windows that
  /// touch the padding, and samples holding a NaN or Inf (found by one vectorised pass), take the
  /// per-window rule in `max_window`.
  template <int K, int S>
  static void max_planes(const Matrix<T>& X, Matrix<T>& Y, IndexMatrix& A, const detail::WindowGeometry& g) {
    const Index C = g.channels, H = g.height, W = g.width, Ho = g.out_height, Wo = g.out_width;
    const Index k = K > 0 ? K : g.kernel, s = S > 0 ? S : g.stride, p = g.padding;
    // Outputs o whose window lies wholly inside the image: o*s - p >= 0 and o*s - p + k <= in.
    auto inside = [&](Index in, Index out, Index& lo, Index& hi) {
      lo = std::min(out, (p + s - 1) / s);
      hi = in + p - k < 0 ? lo : std::max(lo, std::min(out, (in + p - k) / s + 1));
    };
    Index oh_a, oh_b, ow_a, ow_b;
    inside(H, Ho, oh_a, oh_b);
    inside(W, Wo, ow_a, ow_b);
    for (Index n = 0; n < X.rows(); ++n) {
      const T* x = X.data() + n * X.cols();
      T* y = Y.data() + n * Y.cols();
      std::int32_t* a = A.data() + n * A.cols();
      const bool has_nan = !detail::all_finite(X.row(n));  // NaN (or Inf): the per-window rule
      for (Index c = 0; c < C; ++c) {
        const Index plane = c * H * W;
        for (Index oh = 0; oh < Ho; ++oh) {
          T* yr = y + (c * Ho + oh) * Wo;
          std::int32_t* ar = a + (c * Ho + oh) * Wo;
          if (has_nan || oh < oh_a || oh >= oh_b) {
            for (Index ow = 0; ow < Wo; ++ow) max_window(x, plane, oh, ow, g, yr[ow], ar[ow]);
            continue;
          }
          // Interior outputs ow_a .. ow_b-1 (tap (i, j) of output ow reads x[first + ow*s + i*W + j]),
          // then the outputs whose window touches the padding (the interior may have written past
          // ow_b, see interior_row).
          const Index first = plane + (oh * s - p) * W - p;
          interior_row<K, S>(x + first, static_cast<std::int32_t>(first), W, s, k, ow_a, ow_b, yr, ar,
                             X.data() + X.size(), Y.data() + Y.size());
          for (Index ow = 0; ow < ow_a; ++ow) max_window(x, plane, oh, ow, g, yr[ow], ar[ow]);
          for (Index ow = ow_b; ow < Wo; ++ow) max_window(x, plane, oh, ow, g, yr[ow], ar[ow]);
        }
      }
    }
  }

  /// Outputs lo .. hi-1 of one row, every window inside the image and free of NaN: output ow's
  /// window starts at `win0 + ow*s` (its offset in the sample's row: `first + ow*s`); the winner
  /// starts at the first position and takes strictly larger values (the rule without NaN).
  ///
  /// K = S = 2 (the only compile-time instance) has its own kernel: the winner of each window row
  /// (a, b), then the lower row's winner only if strictly larger than the upper's. That is the
  /// same element as the scan in row-major order, ties included. Its outputs go `L` at a time
  /// (8 for rows of at most 8 outputs, else 16) through a loop of fixed length, which GCC turns
  /// into whole vector operations (even/odd lanes split by permutes); W2's two poolings went from
  /// 83 to 66 and 73 to 55 us per batch of 64 (NaN scan included) against the generic scan at 16
  /// lanes. Such a block may read past the row's last window and write past `hi` (up to L - 1
  /// outputs); it is used only while both stay inside X's and Y's storage (`x_end`, `y_end`), and
  /// the caller computes the outputs past `hi` afterwards (they belong to this row's padded
  /// windows or to rows not yet computed).
  template <int K, int S>
  static void interior_row(const T* win0, std::int32_t first, Index W, Index s, Index k, Index lo, Index hi, T* yr,
                           std::int32_t* ar, const T* x_end, const T* y_end) {
    Index ow = lo;
    if constexpr (K > 0 && S > 0) {
      static_assert(K == 2 && S == 2, "the fixed-size kernel is written for 2 x 2 windows with stride 2");
      const std::int32_t w = static_cast<std::int32_t>(W);
      // The index selects as bit masks: GCC 12 vectorises `take ? a : b` on the float but reports
      // "control flow in loop" for the same select on the int.
      auto pick = [](std::int32_t take, std::int32_t a, std::int32_t b) { return (take & a) | (~take & b); };
      auto two_by_two = [&](Index o) {
        const T* top = win0 + 2 * o;
        const T* bottom = top + W;
        const std::int32_t right_top = -static_cast<std::int32_t>(top[1] > top[0]);
        const std::int32_t right_bottom = -static_cast<std::int32_t>(bottom[1] > bottom[0]);
        const T upper = top[1] > top[0] ? top[1] : top[0];
        const T lower = bottom[1] > bottom[0] ? bottom[1] : bottom[0];
        const std::int32_t take_lower = -static_cast<std::int32_t>(lower > upper);
        yr[o] = lower > upper ? lower : upper;
        ar[o] = first + 2 * static_cast<std::int32_t>(o) +
                pick(take_lower, w + (right_bottom & 1), right_top & 1);
      };
      auto blocks = [&](auto lanes) {
        constexpr Index L = decltype(lanes)::value;
        // The last value a block starting at ow reads, and the end of what it writes.
        for (; ow < hi && win0 + 2 * (ow + L - 1) + 1 + W < x_end && yr + ow + L <= y_end; ow += L)
          for (Index l = 0; l < L; ++l) two_by_two(ow + l);
      };
      if (hi - lo <= 8)
        blocks(std::integral_constant<Index, 8>{});
      else
        blocks(std::integral_constant<Index, 16>{});
      for (; ow < hi; ++ow) two_by_two(ow);
      return;
    }
    for (; ow < hi; ++ow) {
      const T* win = win0 + ow * s;
      T best = win[0];
      std::int32_t best_at = 0;  // branch-free: random data mispredicts a branch half the time
      for (Index i = 0; i < k; ++i)
        for (Index j = 0; j < k; ++j) {
          const T v = win[i * W + j];
          const std::int32_t take = -static_cast<std::int32_t>(v > best);
          best = v > best ? v : best;
          best_at = (take & static_cast<std::int32_t>(i * W + j)) | (~take & best_at);
        }
      yr[ow] = best;
      ar[ow] = first + static_cast<std::int32_t>(ow * s) + best_at;
    }
  }

  /// One output (oh, ow) of channel `plane` by PyTorch's rule, for any window (padding, NaN).
  static void max_window(const T* x, Index plane, Index oh, Index ow, const detail::WindowGeometry& g, T& out,
                         std::int32_t& out_at) {
    const Index W = g.width;
    Index ih_lo, ih_hi, iw_lo, iw_hi;
    detail_pool::window(oh, g.stride, g.padding, g.kernel, g.height, ih_lo, ih_hi);
    detail_pool::window(ow, g.stride, g.padding, g.kernel, W, iw_lo, iw_hi);
    T best = -std::numeric_limits<T>::infinity();
    Index best_at = plane + ih_lo * W + iw_lo;
    for (Index ih = ih_lo; ih < ih_hi; ++ih)
      for (Index iw = iw_lo; iw < iw_hi; ++iw) {
        const Index at = plane + ih * W + iw;
        if (x[at] > best || x[at] != x[at]) {
          best = x[at];
          best_at = at;
        }
      }
    out = best;
    out_at = static_cast<std::int32_t>(best_at);
  }

  Pool2DOptions options_;
  detail::WindowGeometry geom_;
  Index batch_ = -1;  // N of the last forward (-1: none yet)
  Matrix<T> Y_;       // N x C*Ho*Wo
  // N x C*Ho*Wo: for each output, the index within the sample's row of the input that won
  IndexMatrix argmax_;
  Matrix<T> dX_;      // N x C*H*W
};

/// Average pooling. Input `N x (C*H*W)`, output `N x (C*H_out*W_out)` (C order):
///
///     Y(n, c, y, x) = (1 / k^2) * sum over the window's positions inside the image of X(n, c, ., .)
///
/// Padded positions count as zeros (the divisor is always `k*k`, PyTorch's default
/// `count_include_pad=True`). Backward: each input position receives `dY / k^2` from every window
/// that covers it.
template <class T>
class AvgPool2D : public LayerBase<AvgPool2D<T>, T> {
 public:
  using Options = Pool2DOptions;

  explicit AvgPool2D(const Pool2DOptions& options)
      : options_(options), geom_(detail_pool::make_geometry(options, "AvgPool2D")) {}

  const Matrix<T>& forward(const Matrix<T>& X) override {
    detail::check_cols("AvgPool2D::forward", "X", X, input_size());
    const Index N = X.rows(), C = geom_.channels, H = geom_.height, W = geom_.width;
    const Index Ho = geom_.out_height, Wo = geom_.out_width;
    const T scale = T(1) / static_cast<T>(geom_.kernel * geom_.kernel);  // padding counts as zeros
    Y_.resize(N, C * Ho * Wo);
    detail_pool::dispatch_kernel(geom_.kernel, [&](auto kc) {
      constexpr int K = decltype(kc)::value;
      for (Index n = 0; n < N; ++n)
        for (Index c = 0; c < C; ++c) {
          const T* x = X.data() + n * X.cols() + c * H * W;
          T* y = Y_.data() + n * Y_.cols() + c * Ho * Wo;
          detail_pool::for_each_window<K>(geom_, [&](Index out, Index /*first*/, auto&& each) {
            T sum = T(0);
            each([&](Index at) { sum += x[at]; });
            y[out] = sum * scale;
          });
        }
    });
    batch_ = N;
    return Y_;
  }

  const Matrix<T>& backward(const Matrix<T>& dY) override {
    if (batch_ < 0) detail::fail("AvgPool2D::backward", "called before forward");
    detail::check_rows("AvgPool2D::backward", "dY", dY.rows(), "the last forward's X", batch_);
    detail::check_cols("AvgPool2D::backward", "dY", dY, output_size(input_size()));
    const Index N = dY.rows(), C = geom_.channels, H = geom_.height, W = geom_.width;
    const Index Ho = geom_.out_height, Wo = geom_.out_width;
    const T scale = T(1) / static_cast<T>(geom_.kernel * geom_.kernel);
    dX_.resize(N, input_size());
    dX_.setZero();
    detail_pool::dispatch_kernel(geom_.kernel, [&](auto kc) {
      constexpr int K = decltype(kc)::value;
      for (Index n = 0; n < N; ++n)
        for (Index c = 0; c < C; ++c) {
          const T* dy = dY.data() + n * dY.cols() + c * Ho * Wo;
          T* dx = dX_.data() + n * dX_.cols() + c * H * W;
          detail_pool::for_each_window<K>(geom_, [&](Index out, Index /*first*/, auto&& each) {
            const T g = dy[out] * scale;  // dY(out)/dX(at) = 1/k^2 for every covered position
            each([&](Index at) { dx[at] += g; });
          });
        }
    });
    return dX_;
  }

  std::string name() const override { return "AvgPool2D"; }
  Index input_size() const override { return geom_.in_size(); }
  Index output_size(Index /*input_size*/) const override { return geom_.channels * geom_.out_pixels(); }
  const Pool2DOptions& options() const { return options_; }
  Index out_height() const { return geom_.out_height; }
  Index out_width() const { return geom_.out_width; }

 private:
  Pool2DOptions options_;
  detail::WindowGeometry geom_;
  Index batch_ = -1;  // N of the last forward (-1: none yet)
  Matrix<T> Y_;       // N x C*Ho*Wo
  Matrix<T> dX_;      // N x C*H*W
};

}  // namespace eigenml::nn
