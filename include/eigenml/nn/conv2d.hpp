#pragma once
/// \file nn/conv2d.hpp
/// `nn::Conv2D`: a 2-D convolution (cross-correlation, as in PyTorch's `nn.Conv2d`) with a square
/// kernel, a stride and zero padding, computed as im2col + one matrix product per batch (per
/// cache-sized chunk of the batch for large images).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"
#include "eigenml/detail/im2col.hpp"
#include "eigenml/nn/layer.hpp"
#include "eigenml/random.hpp"

namespace eigenml::nn {

/// Options of `Conv2D`. The first five fields are required (> 0).
struct Conv2DOptions {
  int in_channels = 0;   ///< C: channels of the input image
  int height = 0;        ///< H: input height
  int width = 0;         ///< W: input width
  int out_channels = 0;  ///< OC: number of filters
  int kernel = 0;        ///< k: the kernel is k x k
  int stride = 1;        ///< s: step of the window in both directions
  int padding = 0;       ///< p: zeros added on every side
};

/// A 2-D convolution layer.
///
/// Input `X`: `N x (C*H*W)`, each row one image in C order (NCHW). Output `Y`:
/// `N x (OC*H_out*W_out)` in C order, with `H_out = (H + 2p - k)/s + 1` (floor), likewise `W_out`:
///
///     Y(n, o, y, x) = b(o) + sum_{c,i,j} W(o, (c*k + i)*k + j) * Xpad(n, c, y*s + i, x*s + j)
///
/// where `Xpad` is `X` with `p` zeros on every side. Parameters, in this order: `W`
/// (`OC x C*k*k`, each row one filter in C order `[c][i][j]`, i.e. PyTorch's `weight` `[OC, C, k, k]`
/// flattened) and `b` (`OC x 1`).
///
/// Initialisation (PyTorch's default for `nn.Conv2d`): `W` and `b` uniform in
/// `+-1/sqrt(C*k*k)`, drawn from `Rng(seed)`, `W` row by row first, then `b`.
///
/// Computation: `cols = im2col(X)` (`C*k*k x N*P`, `P = H_out*W_out`), `Z = W * cols`
/// (`OC x N*P`, one GEMM), then `Z` regrouped per sample into `Y` with the bias added in the same
/// pass. When `cols` of the whole batch would not fit in about 1 MiB (large images), the batch is
/// processed in chunks of samples, one GEMM per chunk, and backward recomputes each chunk's im2col
/// from a copy of `X` (cheaper than streaming a large `cols` through memory). All buffers are
/// members, resized only when the batch size changes.
template <class T>
class Conv2D : public LayerBase<Conv2D<T>, T> {
 public:
  using Options = Conv2DOptions;

  explicit Conv2D(const Conv2DOptions& options, std::uint64_t seed = 0) : options_(options) {
    validate(options);
    geom_ = detail::WindowGeometry(options.in_channels, options.height, options.width, options.kernel,
                                   options.stride, options.padding);
    const Index fan_in = geom_.patch_size();
    W_ = Parameter<T>(options.out_channels, fan_in);
    b_ = Parameter<T>(options.out_channels, 1);
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    Rng rng(seed);
    rng.fill_uniform(W_.value, -bound, bound);
    rng.fill_uniform(b_.value, -bound, bound);
  }

  /// Y = conv(X) + b. X: N x (C*H*W); returns N x (OC*H_out*W_out).
  const Matrix<T>& forward(const Matrix<T>& X) override {
    detail::check_cols("Conv2D::forward", "X", X, input_size());
    const Index N = X.rows(), P = geom_.out_pixels(), OC = options_.out_channels;
    batch_ = N;
    chunk_ = std::max<Index>(1, std::min<Index>(N, kWorkingSetBytes / (working_set_per_sample() * Index(sizeof(T)))));
    // Backward needs im2col(X): it stays in cols_ when the batch is one chunk; otherwise backward
    // recomputes it chunk by chunk from a copy of X (9x smaller than cols for a 3x3 kernel).
    if (chunk_ < N) X_ = X;
    cols_.resize(geom_.patch_size(), chunk_ * P);
    Z_.resize(OC, chunk_ * P);
    Y_.resize(N, OC * P);
    for (Index n0 = 0; n0 < N; n0 += chunk_) {
      const Index m = std::min(chunk_, N - n0), mP = m * P;
      detail::im2col(X, n0, m, geom_, cols_);                              // cols: C*k*k x m*P
      Z_.leftCols(mP).noalias() = W_.value * cols_.leftCols(mP);          // Z: OC x m*P
      for (Index n = 0; n < m; ++n)                                        // Y(n0+n, o*P + q) = Z(o, n*P + q) + b(o)
        for (Index o = 0; o < OC; ++o)
          Y_.row(n0 + n).segment(o * P, P).array() = Z_.row(o).segment(n * P, P).array() + b_.value(o, 0);
    }
    return Y_;
  }

  /// Given dY = dL/dY (N x OC*H_out*W_out) of the last forward: sets W.grad, b.grad (summed over
  /// the batch) and returns dX = dL/dX (N x C*H*W).
  ///
  ///     dZ = dY regrouped to OC x N*P,  db = dZ 1,  dW = dZ cols^T,  dcols = W^T dZ,  dX = col2im(dcols)
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    if (batch_ < 0) detail::fail("Conv2D::backward", "called before forward");
    detail::check_rows("Conv2D::backward", "dY", dY.rows(), "the last forward's X", batch_);
    detail::check_cols("Conv2D::backward", "dY", dY, output_size(input_size()));
    const Index N = batch_, P = geom_.out_pixels(), OC = options_.out_channels;
    const bool one_chunk = chunk_ >= N;
    const bool need_dX = this->needs_input_grad();
    if (need_dX) {
      dcols_.resize(geom_.patch_size(), chunk_ * P);
      dX_.resize(N, input_size());
    } else {
      dX_.resize(0, 0);  // no dL/dX wanted: skip dcols and col2im
    }
    W_.grad.setZero();
    b_.grad.setZero();
    for (Index n0 = 0; n0 < N; n0 += chunk_) {
      const Index m = std::min(chunk_, N - n0), mP = m * P;
      if (!one_chunk) detail::im2col(X_, n0, m, geom_, cols_);        // cols: C*k*k x m*P
      for (Index n = 0; n < m; ++n)                                      // dZ(o, n*P + q) = dY(n0+n, o*P + q)
        for (Index o = 0; o < OC; ++o) {
          const auto dy = dY.row(n0 + n).segment(o * P, P);
          Z_.row(o).segment(n * P, P) = dy;
          b_.grad(o, 0) += dy.sum();                                     // db(o) = sum_{n,q} dZ(o, n*P + q)
        }
      W_.grad.noalias() += Z_.leftCols(mP) * cols_.leftCols(mP).transpose();   // dW += dZ cols^T: OC x C*k*k
      if (!need_dX) continue;
      dcols_.leftCols(mP).noalias() = W_.value.transpose() * Z_.leftCols(mP); // dcols = W^T dZ: C*k*k x m*P
      detail::col2im(dcols_, geom_, n0, m, dX_);                                 // dX rows n0..n0+m-1
    }
    return dX_;
  }

  std::vector<Parameter<T>*> parameters() override { return {&W_, &b_}; }
  std::string name() const override { return "Conv2D"; }
  Index input_size() const override { return geom_.in_size(); }
  /// OC*H_out*W_out (the argument is ignored: the input size is fixed by the options).
  Index output_size(Index /*input_size*/) const override {
    return static_cast<Index>(options_.out_channels) * geom_.out_pixels();
  }

  const Conv2DOptions& options() const { return options_; }
  Index out_height() const { return geom_.out_height; }
  Index out_width() const { return geom_.out_width; }
  /// Samples per GEMM in the last forward: the whole batch unless its im2col overflows the cache.
  Index samples_per_gemm() const { return chunk_; }
  /// The parameters by name (the same objects `parameters()` returns).
  Parameter<T>& weight() { return W_; }
  const Parameter<T>& weight() const { return W_; }
  Parameter<T>& bias() { return b_; }
  const Parameter<T>& bias() const { return b_; }

 private:
  // Bytes of cols + Z + dcols one chunk may occupy: about a core's L2 cache. With the chunk's
  // working set in cache, im2col -> GEMM -> regroup runs about 2x faster than one GEMM over the
  // whole batch once that no longer fits (measured: batch 64, 8x28x28 -> 16 channels, float);
  // small images still take the whole batch in one GEMM.
  static constexpr Index kWorkingSetBytes = Index(1) << 20;
  Index working_set_per_sample() const {
    return (2 * geom_.patch_size() + options_.out_channels) * geom_.out_pixels();
  }

  static void validate(const Conv2DOptions& o) {
    const char* where = "Conv2D";
    auto positive = [&](int v, const char* field) {
      detail::require(v > 0, where, field, "must be > 0, got " + std::to_string(v));
    };
    positive(o.in_channels, "in_channels");
    positive(o.height, "height");
    positive(o.width, "width");
    positive(o.out_channels, "out_channels");
    positive(o.kernel, "kernel");
    positive(o.stride, "stride");
    detail::require(o.padding >= 0, where, "padding", "must be >= 0, got " + std::to_string(o.padding));
    // Output size >= 1 in both directions: the kernel must fit in the padded image.
    const Index ph = Index(o.height) + 2 * Index(o.padding), pw = Index(o.width) + 2 * Index(o.padding);
    detail::require(o.kernel <= ph && o.kernel <= pw, where, "kernel",
                    std::to_string(o.kernel) + " is larger than the padded input " + std::to_string(ph) + "x" +
                        std::to_string(pw) + " (height/width + 2*padding): the output would be empty");
  }

  Conv2DOptions options_;
  detail::WindowGeometry geom_;
  Parameter<T> W_;   // OC x C*k*k
  Parameter<T> b_;   // OC x 1
  Index batch_ = -1; // N of the last forward (-1: none yet)
  Index chunk_ = 0;  // samples per GEMM (the whole batch unless it overflows the cache)
  Matrix<T> X_;      // N x C*H*W: copy of the last input, kept only when the batch is chunked
  Matrix<T> cols_;   // C*k*k x chunk*P: im2col of a chunk of the batch
  Matrix<T> Z_;      // OC x chunk*P: W*cols in forward, dY regrouped in backward
  Matrix<T> dcols_;  // C*k*k x chunk*P
  Matrix<T> Y_;      // N x OC*P
  Matrix<T> dX_;     // N x C*H*W
};

}  // namespace eigenml::nn
