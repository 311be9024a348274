#pragma once
/// \file nn/activations.hpp
/// Parameter-free activation layers: ReLU, LeakyReLU, Sigmoid, Tanh, Softmax (row-wise) and GELU
/// (exact erf form). Each accepts a batch of any width (`input_size() == -1`) and returns one of
/// the same shape. Forward keeps what backward needs (the output, or the input where the
/// derivative is not a function of the output) in member buffers that are resized only when the
/// batch shape changes, so a steady-state step allocates nothing. Everything is one vectorised
/// Eigen array expression over the whole batch; inputs of any finite size (e.g. ±1000) give finite
/// outputs and gradients.

#include <cmath>
#include <numbers>
#include <string>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"
#include "eigenml/detail/nn_checks.hpp"
#include "eigenml/detail/numerics.hpp"
#include "eigenml/nn/layer.hpp"

namespace eigenml::detail {

/// `dy` where `y > 0`, else 0 (also where `y` is NaN): ReLU's backward as an Eigen functor with a
/// packet version, a compare and a bitwise and. Eigen 3.4 does not vectorise `select`, and
/// `(y > 0).select(dy, 0)` ran element by element at ~3x the time of the forward's `cwiseMax`.
template <class T>
struct relu_grad_op {
  T operator()(const T& y, const T& dy) const { return y > T(0) ? dy : T(0); }
  template <class Packet>
  Packet packetOp(const Packet& y, const Packet& dy) const {
    namespace ei = Eigen::internal;
    return ei::pand(ei::pcmp_lt(ei::pzero(y), y), dy);  // all ones where 0 < y: dy's bits, else +0
  }
};

/// `v` where `x > 0`, else `slope * v`: LeakyReLU's forward (v = x) and backward (v = dy), with
/// a packet version for the same reason as `relu_grad_op`.
template <class T>
struct leaky_op {
  T slope;
  T operator()(const T& x, const T& v) const { return x > T(0) ? v : slope * v; }
  template <class Packet>
  Packet packetOp(const Packet& x, const Packet& v) const {
    namespace ei = Eigen::internal;
    return ei::pselect(ei::pcmp_lt(ei::pzero(x), x), v, ei::pmul(ei::pset1<Packet>(slope), v));
  }
};

}  // namespace eigenml::detail

namespace Eigen::internal {
template <class T>
struct functor_traits<eigenml::detail::relu_grad_op<T>> {
  enum { Cost = 2 * NumTraits<T>::AddCost, PacketAccess = packet_traits<T>::HasCmp };
};
template <class T>
struct functor_traits<eigenml::detail::leaky_op<T>> {
  enum { Cost = 2 * NumTraits<T>::AddCost + NumTraits<T>::MulCost, PacketAccess = packet_traits<T>::HasCmp };
};
}  // namespace Eigen::internal

namespace eigenml::nn {

/// y = max(x, 0). dL/dx = dL/dy where y > 0, else 0 (the subgradient 0 at x = 0, as PyTorch).
template <class T>
class ReLU : public LayerBase<ReLU<T>, T> {
 public:
  /// X: N x D -> Y: N x D.
  const Matrix<T>& forward(const Matrix<T>& X) override {
    Y_ = X.cwiseMax(T(0));
    has_forward_ = true;
    return Y_;
  }

  /// dY: N x D -> dX: N x D.
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    detail::check_activation_backward("ReLU::backward", has_forward_, dY, Y_.rows(), Y_.cols());
    // y > 0 exactly where x > 0, so the output is enough to recover the derivative.
    dX_ = Y_.binaryExpr(dY, detail::relu_grad_op<T>());
    return dX_;
  }

  std::string name() const override { return "ReLU"; }

 private:
  Matrix<T> Y_;   // N x D
  Matrix<T> dX_;  // N x D
  bool has_forward_ = false;
};

/// y = x for x > 0, slope * x otherwise. dL/dx = dL/dy for x > 0, slope * dL/dy otherwise.
template <class T>
class LeakyReLU : public LayerBase<LeakyReLU<T>, T> {
 public:
  /// `slope`: the gradient for negative inputs (PyTorch's `negative_slope`); any finite value.
  explicit LeakyReLU(T slope = T(0.01)) : slope_(slope) {
    detail::require(std::isfinite(static_cast<double>(slope)), "LeakyReLU", "slope", "must be finite");
  }

  T slope() const { return slope_; }

  /// X: N x D -> Y: N x D.
  const Matrix<T>& forward(const Matrix<T>& X) override {
    // Keep the input: with a negative slope the output's sign does not tell which branch was taken.
    X_ = X;
    Y_ = X_.binaryExpr(X_, detail::leaky_op<T>{slope_});
    has_forward_ = true;
    return Y_;
  }

  /// dY: N x D -> dX: N x D.
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    detail::check_activation_backward("LeakyReLU::backward", has_forward_, dY, Y_.rows(), Y_.cols());
    dX_ = X_.binaryExpr(dY, detail::leaky_op<T>{slope_});
    return dX_;
  }

  std::string name() const override { return "LeakyReLU"; }

 private:
  T slope_;
  Matrix<T> X_;   // N x D
  Matrix<T> Y_;   // N x D
  Matrix<T> dX_;  // N x D
  bool has_forward_ = false;
};

/// y = 1 / (1 + exp(-x)), evaluated without overflow (detail::sigmoid_array).
/// dL/dx = dL/dy ⊙ y ⊙ (1 − y).
template <class T>
class Sigmoid : public LayerBase<Sigmoid<T>, T> {
 public:
  /// X: N x D -> Y: N x D, every value in [0, 1].
  const Matrix<T>& forward(const Matrix<T>& X) override {
    detail::sigmoid_array<T>(X.array(), Y_);
    has_forward_ = true;
    return Y_;
  }

  /// dY: N x D -> dX: N x D.
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    detail::check_activation_backward("Sigmoid::backward", has_forward_, dY, Y_.rows(), Y_.cols());
    dX_ = dY.array() * Y_.array() * (T(1) - Y_.array());
    return dX_;
  }

  std::string name() const override { return "Sigmoid"; }

 private:
  Matrix<T> Y_;   // N x D
  Matrix<T> dX_;  // N x D
  bool has_forward_ = false;
};

/// y = tanh(x) (saturates to ±1, never overflows). dL/dx = dL/dy ⊙ (1 − y²).
template <class T>
class Tanh : public LayerBase<Tanh<T>, T> {
 public:
  /// X: N x D -> Y: N x D, every value in [-1, 1].
  const Matrix<T>& forward(const Matrix<T>& X) override {
    Y_ = X.array().tanh();
    has_forward_ = true;
    return Y_;
  }

  /// dY: N x D -> dX: N x D.
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    detail::check_activation_backward("Tanh::backward", has_forward_, dY, Y_.rows(), Y_.cols());
    dX_ = dY.array() * (T(1) - Y_.array().square());
    return dX_;
  }

  std::string name() const override { return "Tanh"; }

 private:
  Matrix<T> Y_;   // N x D
  Matrix<T> dX_;  // N x D
  bool has_forward_ = false;
};

/// Row-wise softmax: y_ij = exp(x_ij − m_i) / Σ_k exp(x_ik − m_i) with m_i = max_k x_ik, so exp never
/// overflows. Each output row is a probability vector.
/// Backward (Jacobian of row i is diag(y_i) − y_i y_iᵀ):
///   dX = Y ⊙ (dY − rowsum(dY ⊙ Y)).
/// To train a classifier, prefer raw logits with `CrossEntropyLoss` (which applies the softmax
/// itself, more accurately) over `Softmax` followed by a loss.
template <class T>
class Softmax : public LayerBase<Softmax<T>, T> {
 public:
  /// X: N x K -> Y: N x K, rows sum to 1.
  const Matrix<T>& forward(const Matrix<T>& X) override {
    detail::softmax_rows<T>(X, Y_, row_max_, row_sum_);
    has_forward_ = true;
    return Y_;
  }

  /// dY: N x K -> dX: N x K.
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    detail::check_activation_backward("Softmax::backward", has_forward_, dY, Y_.rows(), Y_.cols());
    // s_i = Σ_k dY_ik y_ik: N x 1 (reuses the forward's row buffer).
    row_sum_ = (dY.array() * Y_.array()).rowwise().sum();
    // dX_ij = y_ij (dY_ij − s_i): N x K.
    dX_.array() = Y_.array() * (dY.array().colwise() - row_sum_.array());
    return dX_;
  }

  std::string name() const override { return "Softmax"; }

 private:
  Matrix<T> Y_;       // N x K
  Matrix<T> dX_;      // N x K
  Vector<T> row_max_;  // N
  Vector<T> row_sum_;  // N
  bool has_forward_ = false;
};

/// Gaussian Error Linear Unit, exact form (Hendrycks & Gimpel, 2016; PyTorch's default
/// `approximate='none'`):
///   y = x Φ(x),   Φ(x) = ½ (1 + erf(x / √2)) = ½ erfc(−x / √2),
///   dy/dx = Φ(x) + x φ(x),   φ(x) = exp(−x² / 2) / √(2π).
/// Φ is evaluated through erfc, which keeps full relative precision in the far negative tail where
/// 1 + erf(x/√2) would cancel. For large |x| Φ saturates to 0 or 1 and x φ(x) underflows to 0, so
/// outputs and gradients stay finite.
template <class T>
class GELU : public LayerBase<GELU<T>, T> {
 public:
  /// X: N x D -> Y: N x D.
  const Matrix<T>& forward(const Matrix<T>& X) override {
    X_ = X;
    // Φ(X): N x D, kept for backward. std::erfc per element (Eigen has no vectorised erfc in Core).
    Phi_ = X_.unaryExpr([](T x) { return T(0.5) * std::erfc(-x * T(std::numbers::sqrt2 / 2)); });
    Y_ = X_.array() * Phi_.array();
    has_forward_ = true;
    return Y_;
  }

  /// dY: N x D -> dX: N x D.
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    detail::check_activation_backward("GELU::backward", has_forward_, dY, Y_.rows(), Y_.cols());
    const T inv_sqrt_2pi = T(std::numbers::inv_sqrtpi / std::numbers::sqrt2);
    // dy/dx = Φ(x) + x φ(x); dX = dY ⊙ dy/dx: N x D.
    dX_ = dY.array() * (Phi_.array() + X_.array() * inv_sqrt_2pi * (T(-0.5) * X_.array().square()).exp());
    return dX_;
  }

  std::string name() const override { return "GELU"; }

 private:
  Matrix<T> X_;    // N x D
  Matrix<T> Phi_;  // N x D
  Matrix<T> Y_;    // N x D
  Matrix<T> dX_;   // N x D
  bool has_forward_ = false;
};

}  // namespace eigenml::nn
