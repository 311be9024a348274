#pragma once
/// \file nn/lstm.hpp
/// `nn::LSTM`: PyTorch's `nn.LSTM` (one layer, batch first, no peepholes, no projection), trained
/// by backpropagation through time (Hochreiter & Schmidhuber, 1997; forget gate: Gers et al., 2000).

#include <cstdint>
#include <string>

#include "eigenml/core.hpp"
#include "eigenml/detail/recurrent.hpp"

namespace eigenml::nn {

/// LSTM with the four gates stacked in PyTorch's order i, f, g, o (rows `k*H .. k*H+H-1` of
/// `W_ih`, `W_hh`, `b_ih`, `b_hh` belong to gate k). For t = 0..T-1, with h_{-1} = c_{-1} = 0:
///   [i f g o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh       (pre-activations, N x 4H)
///   i = σ(i), f = σ(f), g = tanh(g), o = σ(o)
///   c_t = f ⊙ c_{t-1} + i ⊙ g,   h_t = o ⊙ tanh(c_t).
/// Input `N x (T*F)`; output the last hidden state `N x H` or every one `N x (T*H)` when
/// `return_sequences` (hidden states only, as PyTorch's `output`). Parameters: `W_ih`
/// (`4H x F`), `W_hh` (`4H x H`), `b_ih`, `b_hh` (`4H x 1`), uniform in `(-1/sqrt(H), 1/sqrt(H))`
/// from `Rng(seed)`.
template <class T>
class LSTM : public detail::RecurrentBase<LSTM<T>, T, 4> {
  using Base = detail::RecurrentBase<LSTM<T>, T, 4>;

 public:
  using typename Base::Options;

  /// Throws std::invalid_argument naming the field when a size is not positive.
  explicit LSTM(const Options& opts, std::uint64_t seed = 0) : Base(opts, seed, "nn::LSTM") {}

  std::string name() const override { return "LSTM"; }

  /// X: N x T*F  ->  N x H (or N x T*H).
  const Matrix<T>& forward(const Matrix<T>& X) override {
    this->bias_ = this->b_ih_.value.col(0) + this->b_hh_.value.col(0);
    this->begin_forward(X, this->bias_);  // A: x_t W_ih^T + b_ih + b_hh, every step
    const Index H = this->H(), N = X.rows();
    C_.resize(N, this->Tn() * H);
    TC_.resize(N, this->Tn() * H);
    for (Index t = 0; t < this->Tn(); ++t) {
      auto a = this->A_.middleCols(t * 4 * H, 4 * H);  // N x 4H   [i f g o]
      if (t > 0) a.noalias() += this->Hprev_.middleCols(t * H, H) * this->W_hh_.value.transpose();
      auto ifg = a.leftCols(2 * H);
      ifg = ifg.array().logistic().matrix();  // i, f
      auto g = a.middleCols(2 * H, H);
      g = g.array().tanh().matrix();
      auto o = a.rightCols(H);
      o = o.array().logistic().matrix();
      const auto i = a.leftCols(H);
      const auto f = a.middleCols(H, H);
      auto c = C_.middleCols(t * H, H);  // N x H   c_t
      if (t > 0)
        c = (f.array() * C_.middleCols((t - 1) * H, H).array() + i.array() * g.array()).matrix();
      else
        c = (i.array() * g.array()).matrix();
      auto tc = TC_.middleCols(t * H, H);
      tc = c.array().tanh().matrix();
      this->store_h(t, (o.array() * tc.array()).matrix());
    }
    return this->end_forward();
  }

  /// dY: N x H (or N x T*H)  ->  dL/dX: N x T*F; sets the four parameter gradients.
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    this->begin_backward(dY);  // dh = dL/dh_{T-1}
    const Index H = this->H();
    dc_.setZero(dY.rows(), H);  // dL/dc_t reaching step t from step t+1 (none at the end)
    for (Index t = this->Tn() - 1; t >= 0; --t) {
      this->add_output_grad(dY, t);  // dh += dL/dh_t from the output
      const auto a = this->A_.middleCols(t * 4 * H, 4 * H);
      const auto i = a.leftCols(H).array(), f = a.middleCols(H, H).array();
      const auto g = a.middleCols(2 * H, H).array(), o = a.rightCols(H).array();
      const auto tc = TC_.middleCols(t * H, H).array();  // tanh(c_t)
      const auto dh = this->dh_.array();
      auto d = this->dA_.middleCols(t * 4 * H, 4 * H);  // N x 4H   dL/d[i f g o] pre-activations
      // dc_t = (dL/dc_t from step t+1) + dh_t ⊙ o ⊙ (1 - tanh²(c_t))
      dc_.array() += dh * o * (T(1) - tc.square());
      // σ' = s(1-s), tanh' = 1 - g²; each gate's derivative of c_t or h_t
      d.rightCols(H) = (dh * tc * o * (T(1) - o)).matrix();                   // o: dh_t ⊙ tanh(c_t)
      d.leftCols(H) = (dc_.array() * g * i * (T(1) - i)).matrix();            // i: dc_t ⊙ g
      d.middleCols(2 * H, H) = (dc_.array() * i * (T(1) - g.square())).matrix();  // g: dc_t ⊙ i
      if (t > 0)
        d.middleCols(H, H) =
            (dc_.array() * C_.middleCols((t - 1) * H, H).array() * f * (T(1) - f)).matrix();  // f: dc_t ⊙ c_{t-1}
      else
        d.middleCols(H, H).setZero();  // c_{-1} = 0
      if (t > 0) {
        dc_.array() *= f;                                 // dL/dc_{t-1} through c_t = f ⊙ c_{t-1} + ...
        this->dh_.noalias() = d * this->W_hh_.value;      // dL/dh_{t-1} = d W_hh
      }
    }
    return this->end_backward(this->dA_, this->dA_);
  }

 private:
  Matrix<T> C_;   // N x T*H   c_t
  Matrix<T> TC_;  // N x T*H   tanh(c_t)
  Matrix<T> dc_;  // N x H     dL/dc_t, carried backwards in time
};

}  // namespace eigenml::nn
