#pragma once
/// \file nn/gru.hpp
/// `nn::GRU`: PyTorch's `nn.GRU` (one layer, batch first), trained by backpropagation through
/// time (Cho et al., 2014, with the reset gate applied after the recurrent product as cuDNN and
/// PyTorch do).

#include <cstdint>
#include <string>

#include "eigenml/core.hpp"
#include "eigenml/detail/recurrent.hpp"

namespace eigenml::nn {

/// GRU with the three gates stacked in PyTorch's order r, z, n (rows `k*H .. k*H+H-1` of `W_ih`,
/// `W_hh`, `b_ih`, `b_hh` belong to gate k). For t = 0..T-1, with h_{-1} = 0:
///   r = σ(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)
///   z = σ(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)
///   n = tanh(x_t W_in^T + b_in + r ⊙ (h_{t-1} W_hn^T + b_hn))
///   h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}.
/// Input `N x (T*F)`; output the last state `N x H` or every one `N x (T*H)` when
/// `return_sequences`. Parameters: `W_ih` (`3H x F`), `W_hh` (`3H x H`), `b_ih`, `b_hh`
/// (`3H x 1`), uniform in `(-1/sqrt(H), 1/sqrt(H))` from `Rng(seed)`.
template <class T>
class GRU : public detail::RecurrentBase<GRU<T>, T, 3> {
  using Base = detail::RecurrentBase<GRU<T>, T, 3>;

 public:
  using typename Base::Options;

  /// Throws std::invalid_argument naming the field when a size is not positive.
  explicit GRU(const Options& opts, std::uint64_t seed = 0) : Base(opts, seed, "nn::GRU") {}

  std::string name() const override { return "GRU"; }

  /// X: N x T*F  ->  N x H (or N x T*H).
  const Matrix<T>& forward(const Matrix<T>& X) override {
    // b_hn sits inside r ⊙ (...), so only the input bias can be folded into the projection.
    this->begin_forward(X, this->b_ih_.value.col(0));  // A: x_t W_ih^T + b_ih, every step
    const Index H = this->H(), N = X.rows();
    HN_.resize(N, this->Tn() * H);
    hp_.resize(N, 3 * H);
    for (Index t = 0; t < this->Tn(); ++t) {
      // hp = h_{t-1} W_hh^T + b_hh   N x 3H
      hp_.rowwise() = this->b_hh_.value.col(0).transpose();
      if (t > 0) hp_.noalias() += this->Hprev_.middleCols(t * H, H) * this->W_hh_.value.transpose();
      auto a = this->A_.middleCols(t * 3 * H, 3 * H);  // N x 3H   [r z n]
      auto rz = a.leftCols(2 * H);
      rz = (rz + hp_.leftCols(2 * H)).array().logistic().matrix();
      const auto r = a.leftCols(H);
      const auto z = a.middleCols(H, H);
      auto hn = HN_.middleCols(t * H, H);  // h_{t-1} W_hn^T + b_hn, kept for backward
      hn = hp_.rightCols(H);
      auto n = a.rightCols(H);
      n = (n.array() + r.array() * hn.array()).tanh().matrix();
      const auto hprev = this->Hprev_.middleCols(t * H, H);  // zero at t = 0
      this->store_h(t, ((T(1) - z.array()) * n.array() + z.array() * hprev.array()).matrix());
    }
    return this->end_forward();
  }

  /// dY: N x H (or N x T*H)  ->  dL/dX: N x T*F; sets the four parameter gradients.
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    this->begin_backward(dY);  // dh = dL/dh_{T-1}; dA_ holds the input-side pre-activation grads
    const Index H = this->H();
    dAhh_.resize(dY.rows(), this->Tn() * 3 * H);  // recurrent-side pre-activation grads
    for (Index t = this->Tn() - 1; t >= 0; --t) {
      this->add_output_grad(dY, t);  // dh += dL/dh_t from the output
      const auto a = this->A_.middleCols(t * 3 * H, 3 * H);
      const auto r = a.leftCols(H).array(), z = a.middleCols(H, H).array(), n = a.rightCols(H).array();
      const auto hn = HN_.middleCols(t * H, H).array();
      const auto hprev = this->Hprev_.middleCols(t * H, H).array();
      const auto dh = this->dh_.array();
      auto di = this->dA_.middleCols(t * 3 * H, 3 * H);  // N x 3H   dL/d(x W_ih^T + b_ih)
      auto dr = dAhh_.middleCols(t * 3 * H, 3 * H);      // N x 3H   dL/d(h W_hh^T + b_hh)
      // n: dh ⊙ (1 - z), through tanh' = 1 - n²
      di.rightCols(H) = (dh * (T(1) - z) * (T(1) - n.square())).matrix();
      // h W_hn^T + b_hn enters n multiplied by r
      dr.rightCols(H) = (di.rightCols(H).array() * r).matrix();
      // r: dn_pre ⊙ (h W_hn^T + b_hn), through σ' = r(1 - r); the same on both sides
      di.leftCols(H) = (di.rightCols(H).array() * hn * r * (T(1) - r)).matrix();
      // z: dh ⊙ (h_{t-1} - n), through σ' = z(1 - z)
      di.middleCols(H, H) = (dh * (hprev - n) * z * (T(1) - z)).matrix();
      dr.leftCols(2 * H) = di.leftCols(2 * H);
      if (t > 0) {
        // dL/dh_{t-1} = dh ⊙ z (direct path) + dr W_hh (through all three recurrent products)
        this->dh_.array() *= z;
        this->dh_.noalias() += dr * this->W_hh_.value;
      }
    }
    return this->end_backward(this->dA_, dAhh_);
  }

 private:
  Matrix<T> HN_;    // N x T*H    h_{t-1} W_hn^T + b_hn
  Matrix<T> hp_;    // N x 3H     h_{t-1} W_hh^T + b_hh of the current step
  Matrix<T> dAhh_;  // N x T*3H   dL/d(h_{t-1} W_hh^T + b_hh)
};

}  // namespace eigenml::nn
