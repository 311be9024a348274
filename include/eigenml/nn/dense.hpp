#pragma once
/// \file nn/dense.hpp
/// The fully connected layer (PyTorch's `nn.Linear`): `Y = X W^T + b`.

#include <cstdint>
#include <string>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"
#include "eigenml/detail/gemm.hpp"
#include "eigenml/init.hpp"
#include "eigenml/nn/layer.hpp"
#include "eigenml/random.hpp"

namespace eigenml::nn {

/// How a layer's weights are drawn (biases always start at zero).
///  - `glorot_uniform`: U(-a, a), a = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010);
///    the default, suited to tanh/sigmoid/linear outputs.
///  - `he_uniform`: U(-a, a), a = sqrt(6 / fan_in) (He et al., 2015), for layers followed by ReLU.
enum class Init { glorot_uniform, he_uniform };

/// Fully connected layer, `y = x W^T + b` for every row x of the batch.
///
/// Parameters (PyTorch's `Linear` order and shapes): `W` (`out x in`), `b` (`out x 1`).
/// The constructor draws `W` from `Rng(seed)` with `init` and sets `b = 0`, so a layer built
/// with the same arguments is bit-identical everywhere. `Sequential::initialize(seed)` re-draws
/// every layer of a network from one seed, choosing He or Glorot by the layer that follows.
template <class T>
class Dense final : public LayerBase<Dense<T>, T> {
 public:
  /// `in` inputs and `out` outputs per sample, both >= 1.
  Dense(Index in, Index out, std::uint64_t seed = 0, Init init = Init::glorot_uniform) : in_(in), out_(out) {
    if (in < 1 || out < 1)
      detail::fail("Dense", "in and out must be >= 1, got in = " + std::to_string(in) + ", out = " + std::to_string(out));
    W_ = Parameter<T>(out, in);
    b_ = Parameter<T>(out, 1);
    Rng rng(seed);
    initialize(init, rng);
  }

  /// Re-draws `W` from `rng` with `init` (fan_in = in, fan_out = out) and zeroes `b`.
  void initialize(Init init, Rng& rng) {
    if (init == Init::he_uniform)
      eigenml::init::he_uniform(W_.value, in_, rng);
    else
      eigenml::init::glorot_uniform(W_.value, in_, out_, rng);
    b_.value.setZero();
    W_.grad.setZero();
    b_.grad.setZero();
  }

  /// Y = X W^T + 1 b^T. X: N x in -> Y: N x out. Keeps a copy of X for backward.
  const Matrix<T>& forward(const Matrix<T>& X) override {
    output("Dense::forward", X);
    X_ = X;  // X: N x in (reuses storage when N is unchanged)
    input_kept_ = true;
    return Y_;
  }

  /// Y as `forward` computes it, without the copy of X (see Layer::infer): a `backward` before
  /// the next `forward` throws.
  const Matrix<T>& infer(const Matrix<T>& X) override {
    output("Dense::infer", X);
    input_kept_ = false;
    return Y_;
  }

  /// Given dY = dL/dY (N x out):
  ///   dW = dY^T X   (out x in),  db = dY^T 1   (out x 1),  dX = dY W   (N x in).
  /// Without `needs_input_grad()`, dX is not computed and an empty matrix is returned.
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    if (!input_kept_)  // X_ would be an older batch's input: a gradient of the wrong batch
      detail::fail("Dense::backward", "the last pass was infer (predict or evaluate), which keeps no input for "
                                      "backward; run forward first");
    if (dY.rows() != X_.rows() || dY.cols() != out_)
      detail::fail("Dense::backward", "dY has shape " + detail::shape_of(dY) + ", expected " +
                                          detail::shape_str(X_.rows(), out_) + " (the shape of the last forward output)");
    gemm_dW_.run(W_.grad, dY.transpose(), X_);      // dW = out x N * N x in
    // db = dY^T 1 as a GEMV: a column-wise sum over a row-major dY is a strided reduction that
    // measured 10-100x slower than the product with a ones vector.
    if (ones_.size() != dY.rows()) ones_.setOnes(dY.rows());  // N
    gemm_db_.run(b_.grad, dY.transpose(), ones_);              // out x N * N x 1
    if (!this->needs_input_grad()) {
      dX_.resize(0, 0);
      return dX_;
    }
    dX_.resize(dY.rows(), in_);
    gemm_dX_.run(dX_, dY, W_.value);                // dX = N x out * out x in
    return dX_;
  }

  std::vector<Parameter<T>*> parameters() override { return {&W_, &b_}; }

  Index input_size() const override { return in_; }
  Index output_size(Index /*input_size*/) const override { return out_; }
  std::string name() const override { return "Dense"; }

  Index in_features() const { return in_; }
  Index out_features() const { return out_; }

  Parameter<T>& weight() { return W_; }
  const Parameter<T>& weight() const { return W_; }
  Parameter<T>& bias() { return b_; }
  const Parameter<T>& bias() const { return b_; }

 private:
  /// Y_ = X W^T + 1 b^T. The bias is added as the product is stored (or Y filled with it first):
  /// no pass over Y of its own.
  void output(const char* where, const Matrix<T>& X) {
    detail::check_cols(where, "X", X, in_);
    Y_.resize(X.rows(), out_);                                             // Y: N x out
    gemm_Y_.run_plus_bias(Y_, X, W_.value.transpose(), b_.value.data());  // N x in * in x out + 1 b^T
  }

  Index in_, out_;
  Parameter<T> W_;  // out x in
  Parameter<T> b_;  // out x 1
  Matrix<T> X_;     // last input, N x in
  bool input_kept_ = true;  // false after an infer, until the next forward
  Matrix<T> Y_;     // last output, N x out
  Matrix<T> dX_;    // last input gradient, N x in
  Vector<T> ones_;  // N ones, for the bias gradient
  // Packing space of the three products, kept between calls (see detail/gemm.hpp).
  detail::Gemm<T> gemm_Y_, gemm_dW_, gemm_dX_, gemm_db_;
};

}  // namespace eigenml::nn
