#pragma once
/// \file detail/recurrent.hpp
/// What `nn::RNN`, `nn::LSTM` and `nn::GRU` share: their options, their four parameters, input
/// checks, the whole-sequence input projection and the whole-sequence weight gradients.
///
/// Memory layout (why the big products need no copy): a sequence batch `X` is `N x (T*F)`
/// row-major, sample n's step t at columns `t*F .. t*F+F-1`. The same buffer read as an
/// `(N*T) x F` row-major matrix has step t of sample n in row `n*T + t`. Every per-step cache here
/// is kept the same way (`N x (T*W)`, step t in columns `t*W ..`), so
///  - one step is `buf.middleCols(t*W, W)`: an `N x W` block with outer stride `T*W` that Eigen's
///    GEMM reads and writes in place, and
///  - all steps at once are `steps(buf, W)`: an `(N*T) x W` map, one GEMM for the input
///    projection, `dW_ih`, `dW_hh` and `dX`.

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"
#include "eigenml/nn/layer.hpp"
#include "eigenml/random.hpp"

namespace eigenml::nn {

/// Options of `RNN`, `LSTM` and `GRU` (one layer, one direction, batch of sequences).
/// `input_size`, `hidden_size` and `seq_len` are required (the zero defaults fail validation).
struct RecurrentOptions {
  int input_size = 0;             ///< F: features per time step
  int hidden_size = 0;            ///< H: size of the hidden state
  int seq_len = 0;                ///< T: time steps per sample (input rows are T*F wide)
  bool return_sequences = false;  ///< output every h_t (`N x T*H`) instead of the last (`N x H`)
};

}  // namespace eigenml::nn

namespace eigenml::detail {

/// An `N x (T*W)` per-step buffer seen as the `(N*T) x W` matrix with step t of sample n in row
/// `n*T + t` (same memory, row-major).
template <class T>
Eigen::Map<Matrix<T>> steps(Matrix<T>& buf, Index width) {
  return Eigen::Map<Matrix<T>>(buf.data(), buf.size() / width, width);
}
template <class T>
Eigen::Map<const Matrix<T>> steps(const Matrix<T>& buf, Index width) {
  return Eigen::Map<const Matrix<T>>(buf.data(), buf.size() / width, width);
}

/// The shared part of a single-layer recurrent network with `Gates` stacked gate blocks
/// (1 for RNN, 4 for LSTM, 3 for GRU); `Derived` supplies `forward`, `backward` and `name`.
///
/// Parameters, in PyTorch's `state_dict` order (`weight_ih_l0, weight_hh_l0, bias_ih_l0,
/// bias_hh_l0`): `W_ih` (`G x F`), `W_hh` (`G x H`), `b_ih`, `b_hh` (`G x 1`) with `G = Gates*H`,
/// all drawn uniform in `(-1/sqrt(H), 1/sqrt(H))` as PyTorch does, from `Rng(seed)`.
template <class Derived, class T, int Gates>
class RecurrentBase : public nn::LayerBase<Derived, T> {
 public:
  using Options = nn::RecurrentOptions;
  using Scalar = T;

  const Options& options() const { return opts_; }
  Index input_size() const override { return Index(opts_.seq_len) * opts_.input_size; }
  /// `H`, or `T*H` with `return_sequences` (the argument is ignored: the width is fixed).
  Index output_size(Index /*input_size*/) const override {
    return opts_.return_sequences ? Index(opts_.seq_len) * opts_.hidden_size : Index(opts_.hidden_size);
  }
  std::vector<Parameter<T>*> parameters() override { return {&W_ih_, &W_hh_, &b_ih_, &b_hh_}; }

  /// The parameters by name (PyTorch's `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`).
  Parameter<T>& W_ih() { return W_ih_; }
  Parameter<T>& W_hh() { return W_hh_; }
  Parameter<T>& b_ih() { return b_ih_; }
  Parameter<T>& b_hh() { return b_hh_; }
  const Parameter<T>& W_ih() const { return W_ih_; }
  const Parameter<T>& W_hh() const { return W_hh_; }
  const Parameter<T>& b_ih() const { return b_ih_; }
  const Parameter<T>& b_hh() const { return b_hh_; }

 protected:
  RecurrentBase(const Options& opts, std::uint64_t seed, const char* where) : opts_(opts) {
    detail::require(opts.input_size > 0, where, "RecurrentOptions.input_size",
                    "must be > 0, got " + std::to_string(opts.input_size));
    detail::require(opts.hidden_size > 0, where, "RecurrentOptions.hidden_size",
                    "must be > 0, got " + std::to_string(opts.hidden_size));
    detail::require(opts.seq_len > 0, where, "RecurrentOptions.seq_len",
                    "must be > 0, got " + std::to_string(opts.seq_len));
    const Index G = Gates * H(), Fi = F();
    W_ih_ = Parameter<T>(G, Fi);
    W_hh_ = Parameter<T>(G, H());
    b_ih_ = Parameter<T>(G, 1);
    b_hh_ = Parameter<T>(G, 1);
    Rng rng(seed);
    const double k = 1.0 / std::sqrt(static_cast<double>(H()));
    for (auto* p : parameters()) rng.fill_uniform(p->value, -k, k);
  }

  Index F() const { return opts_.input_size; }
  Index H() const { return opts_.hidden_size; }
  Index Tn() const { return opts_.seq_len; }

  /// Validates `X` (`N x T*F`, N >= 1), keeps a copy for backward, sizes every per-step buffer
  /// (a no-op for a batch size seen before) and fills `A_` with the input projection of all
  /// steps in one GEMM: `steps(A) = steps(X) W_ih^T + bias^T`, `(N*T) x G`.
  template <class Bias>
  void begin_forward(const Matrix<T>& X, const Eigen::MatrixBase<Bias>& bias) {
    if (X.cols() != input_size())
      detail::fail("nn::" + self().name() + "::forward",
                   "X has shape " + shape_of(X) + ", expected " + std::to_string(input_size()) + " columns (seq_len " +
                       std::to_string(Tn()) + " x input_size " + std::to_string(F()) + ")");
    if (X.rows() == 0) detail::fail("nn::" + self().name() + "::forward", "X is empty (shape " + shape_of(X) + ")");
    const Index N = X.rows(), G = Gates * H();
    X_ = X;
    A_.resize(N, Tn() * G);
    Hs_.resize(N, Tn() * H());
    Hprev_.resize(N, Tn() * H());
    Hprev_.leftCols(H()).setZero();  // h_0 = 0
    auto P = steps(A_, G);           // (N*T) x G
    P.noalias() = steps(X_, F()) * W_ih_.value.transpose();
    P.rowwise() += bias.transpose();
  }

  /// Records `h_t` (`N x H`) as step t of the output sequence and as the previous state of step t+1.
  template <class Expr>
  void store_h(Index t, const Expr& h) {
    auto ht = Hs_.middleCols(t * H(), H());
    ht = h;
    if (t + 1 < Tn()) Hprev_.middleCols((t + 1) * H(), H()) = ht;
  }

  /// The layer's output: all states (`Hs_`, `N x T*H`) or the last one (`N x H`).
  const Matrix<T>& end_forward() {
    if (opts_.return_sequences) return Hs_;
    out_ = Hs_.rightCols(H());
    return out_;
  }

  /// Validates dY against the last forward and sets `dh_` to dL/dh_{T-1} from it.
  void begin_backward(const Matrix<T>& dY) {
    if (X_.rows() == 0) detail::fail("nn::" + self().name() + "::backward", "called before forward");
    const Index N = X_.rows(), W = output_size(0);
    if (dY.rows() != N || dY.cols() != W)
      detail::fail("nn::" + self().name() + "::backward",
                   "dY has shape " + shape_of(dY) + ", expected " + shape_str(N, W) + " (the shape of the output)");
    dA_.resize(N, Tn() * Gates * H());
    if (opts_.return_sequences)
      dh_ = dY.rightCols(H());
    else
      dh_ = dY;
  }

  /// Adds dL/dh_t coming straight from the output (only with `return_sequences`; step T-1 was
  /// added by `begin_backward`).
  void add_output_grad(const Matrix<T>& dY, Index t) {
    if (opts_.return_sequences && t + 1 < Tn()) dh_ += dY.middleCols(t * H(), H());
  }

  /// Whole-sequence gradients from dL/d(pre-activation): `dAih` for the input side, `dAhh` for
  /// the recurrent side (the same buffer except in GRU), both `N x T*G`:
  ///   dW_ih = steps(dAih)^T steps(X)       G x F
  ///   dW_hh = steps(dAhh)^T steps(Hprev)   G x H   (h_{t-1} for each step; h_{-1} = 0)
  ///   db_ih = steps(dAih)^T 1,  db_hh = steps(dAhh)^T 1  (column sums)
  ///   steps(dX) = steps(dAih) W_ih         (N*T) x F   (only with needs_input_grad())
  const Matrix<T>& end_backward(const Matrix<T>& dAih, const Matrix<T>& dAhh) {
    const Index G = Gates * H();
    const auto Dih = steps(dAih, G);
    const auto Dhh = steps(dAhh, G);
    W_ih_.grad.noalias() = Dih.transpose() * steps(X_, F());
    W_hh_.grad.noalias() = Dhh.transpose() * steps(Hprev_, H());
    // Column sums as GEMVs with a ones vector: Eigen's colwise().sum() walks a row-major matrix
    // column by column (strided), which cost as much as a GEMM here.
    if (ones_.size() != Dih.rows()) ones_.setOnes(Dih.rows());
    b_ih_.grad.noalias() = Dih.transpose() * ones_;
    b_hh_.grad.noalias() = Dhh.transpose() * ones_;
    if (!this->needs_input_grad()) {  // nobody reads dL/dX: skip its (N*T) x G x F product
      dX_.resize(0, 0);
      return dX_;
    }
    dX_.resize(X_.rows(), X_.cols());
    steps(dX_, F()).noalias() = Dih * W_ih_.value;
    return dX_;
  }

  const Derived& self() const { return static_cast<const Derived&>(*this); }

  Options opts_;
  Parameter<T> W_ih_, W_hh_, b_ih_, b_hh_;
  Matrix<T> X_;      // N x T*F   the last input
  Matrix<T> A_;      // N x T*G   gate values (pre-activation, then activated in place)
  Matrix<T> Hs_;     // N x T*H   h_t in step t (the output with return_sequences)
  Matrix<T> Hprev_;  // N x T*H   h_{t-1} in step t (zero in step 0)
  Matrix<T> out_;    // N x H     h_{T-1} (the output without return_sequences)
  Matrix<T> dA_;     // N x T*G   dL/d(gate pre-activations)
  Matrix<T> dh_;     // N x H     dL/dh_t, carried backwards in time
  Matrix<T> dX_;     // N x T*F
  Vector<T> bias_;   // G         a combined bias where the cell allows it (b_ih + b_hh)
  Vector<T> ones_;   // N*T       all ones (bias gradients as column sums)
};

}  // namespace eigenml::detail
