#pragma once
/// \file nn/rnn.hpp
/// `nn::RNN`: the Elman recurrent layer with tanh (PyTorch's `nn.RNN`, one layer, batch first),
/// trained by backpropagation through time. `nn::RecurrentOptions` (shared with LSTM and GRU)
/// is declared in `eigenml/detail/recurrent.hpp`.

#include <cstdint>
#include <string>

#include "eigenml/core.hpp"
#include "eigenml/detail/recurrent.hpp"

namespace eigenml::nn {

/// Elman RNN: for t = 0..T-1, with h_{-1} = 0,
///   h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).
/// Input `N x (T*F)` (each row the T steps of one sample, step after step). Output the last state
/// `N x H`, or every state `N x (T*H)` when `return_sequences`.
/// Parameters (PyTorch's order and shapes): `W_ih` (`H x F`), `W_hh` (`H x H`), `b_ih`, `b_hh`
/// (`H x 1`), initialised uniform in `(-1/sqrt(H), 1/sqrt(H))` from `Rng(seed)`.
///
/// Cost per batch: one `(N*T) x F x H` GEMM for the input projection of all steps, then one
/// `N x H x H` GEMM per step; backward one `N x H x H` GEMM per step plus three whole-sequence
/// GEMMs (dW_ih, dW_hh, dX).
template <class T>
class RNN : public detail::RecurrentBase<RNN<T>, T, 1> {
  using Base = detail::RecurrentBase<RNN<T>, T, 1>;

 public:
  using typename Base::Options;

  /// Throws std::invalid_argument naming the field when a size is not positive.
  explicit RNN(const Options& opts, std::uint64_t seed = 0) : Base(opts, seed, "nn::RNN") {}

  std::string name() const override { return "RNN"; }

  /// X: N x T*F  ->  N x H (or N x T*H).
  const Matrix<T>& forward(const Matrix<T>& X) override {
    this->bias_ = this->b_ih_.value.col(0) + this->b_hh_.value.col(0);  // both biases add to the same sum
    this->begin_forward(X, this->bias_);                                // A: x_t W_ih^T + b_ih + b_hh
    const Index H = this->H();
    for (Index t = 0; t < this->Tn(); ++t) {
      auto a = this->A_.middleCols(t * H, H);  // N x H
      if (t > 0) a.noalias() += this->Hprev_.middleCols(t * H, H) * this->W_hh_.value.transpose();
      a = a.array().tanh().matrix();  // a now holds h_t
      this->store_h(t, a);
    }
    return this->end_forward();
  }

  /// dY: N x H (or N x T*H)  ->  dL/dX: N x T*F; sets the four parameter gradients.
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    this->begin_backward(dY);  // dh = dL/dh_{T-1}
    const Index H = this->H();
    for (Index t = this->Tn() - 1; t >= 0; --t) {
      this->add_output_grad(dY, t);                         // dh += dL/dh_t from the output
      const auto h = this->A_.middleCols(t * H, H);  // N x H   h_t
      auto dz = this->dA_.middleCols(t * H, H);      // N x H   dL/dz_t, z_t the pre-activation
      dz = (this->dh_.array() * (T(1) - h.array().square())).matrix();  // tanh' = 1 - h^2
      if (t > 0) this->dh_.noalias() = dz * this->W_hh_.value;  // dL/dh_{t-1} = dz W_hh
    }
    return this->end_backward(this->dA_, this->dA_);
  }
};

}  // namespace eigenml::nn
