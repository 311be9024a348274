#pragma once
/// \file nn/losses.hpp
/// Losses: MSELoss, BCEWithLogitsLoss and CrossEntropyLoss. They share no base class, only a shape:
///   T forward(const Matrix<T>& pred, const Target& target)  // the mean loss of the batch
///   const Matrix<T>& backward()                             // dL/dpred, shape of pred
/// The loss is the only place that divides by the batch size (layers sum over the batch).
/// `forward` validates its inputs, computes the loss and keeps dL/dpred in a member buffer (resized
/// only when the batch shape changes), so `backward` is free and a steady-state step allocates
/// nothing. `backward` before any successful `forward` throws.

#include <Eigen/Core>

#include <string>
#include <string_view>
#include <type_traits>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"
#include "eigenml/detail/nn_checks.hpp"
#include "eigenml/detail/numerics.hpp"

namespace eigenml::nn {

/// Mean squared error over all elements:
///   L = (1 / (N·D)) Σ_ij (pred_ij − target_ij)²,   dL/dpred = 2 (pred − target) / (N·D).
/// `pred` is N x D; `target` is any dense Eigen matrix or vector of scalar T and the same shape
/// (a `Vector<T>` of length N for an N x 1 `pred`).
template <class T>
class MSELoss {
 public:
  /// pred: N x D, target: N x D. Returns the mean squared error and keeps dL/dpred for backward.
  /// Throws std::invalid_argument on a shape mismatch (naming both shapes), an empty batch, or
  /// NaN/Inf in pred or target.
  template <class Derived>
  T forward(const Matrix<T>& pred, const Eigen::MatrixBase<Derived>& target) {
    static_assert(std::is_same_v<typename Derived::Scalar, T>,
                  "MSELoss: target must have the same scalar type as pred");
    constexpr std::string_view where = "MSELoss::forward";
    has_forward_ = false;
    detail::check_same_shape(where, "pred", pred, "target", target);
    detail::check_nonempty(where, "pred", pred);
    detail::check_finite(where, "pred", pred);
    detail::check_finite(where, "target", target);

    const T inv_n = T(1) / static_cast<T>(pred.size());
    // grad_ first holds the residual pred − target: N x D.
    grad_ = pred - target;
    const T loss = grad_.squaredNorm() * inv_n;
    // dL/dpred = 2 (pred − target) / (N·D).
    grad_ *= T(2) * inv_n;
    has_forward_ = true;
    return loss;
  }

  /// dL/dpred of the last forward: N x D.
  const Matrix<T>& backward() const {
    detail::check_loss_backward("MSELoss::backward", has_forward_);
    return grad_;
  }

 private:
  Matrix<T> grad_;  // N x D
  bool has_forward_ = false;
};

/// Binary cross-entropy on logits z with targets y in [0, 1], mean over all elements:
///   ℓ(z, y) = −y log σ(z) − (1 − y) log(1 − σ(z)) = max(z, 0) − z y + log(1 + exp(−|z|)),
///   L = (1 / (N·D)) Σ_ij ℓ(z_ij, y_ij),   dL/dz = (σ(z) − y) / (N·D).
/// The right-hand form never overflows (exp of a non-positive number) and equals the left one
/// exactly, so logits of ±1000 give exact, finite losses. `pred` (logits) is N x D; `target` is a
/// dense Eigen matrix or vector of scalar T of the same shape with every value in [0, 1] (soft
/// targets allowed).
template <class T>
class BCEWithLogitsLoss {
 public:
  /// pred (logits): N x D, target: N x D in [0, 1]. Returns the mean loss and keeps dL/dpred for
  /// backward. Throws std::invalid_argument on a shape mismatch (naming both shapes), an empty
  /// batch, NaN/Inf in pred or target, or a target outside [0, 1].
  template <class Derived>
  T forward(const Matrix<T>& pred, const Eigen::MatrixBase<Derived>& target) {
    static_assert(std::is_same_v<typename Derived::Scalar, T>,
                  "BCEWithLogitsLoss: target must have the same scalar type as pred");
    constexpr std::string_view where = "BCEWithLogitsLoss::forward";
    has_forward_ = false;
    detail::check_same_shape(where, "pred", pred, "target", target);
    detail::check_nonempty(where, "pred", pred);
    detail::check_finite(where, "pred", pred);
    detail::check_finite(where, "target", target);
    detail::check_unit_interval(where, "target", target);

    const T inv_n = T(1) / static_cast<T>(pred.size());
    const auto z = pred.array();
    const auto y = target.derived().array();
    // grad_ first holds e = exp(−|z|) in (0, 1]: shared by the loss and by σ(z).
    grad_.resize(pred.rows(), pred.cols());
    grad_.array() = (-z.abs()).exp();
    const T loss = (z.cwiseMax(T(0)) - z * y + grad_.array().log1p()).sum() * inv_n;
    // σ(z) = 1 / (1 + e) for z >= 0, e / (1 + e) for z < 0; dL/dz = (σ(z) − y) / (N·D).
    grad_.array() =
        ((z >= T(0)).select(T(1) / (T(1) + grad_.array()), grad_.array() / (T(1) + grad_.array())) - y) * inv_n;
    has_forward_ = true;
    return loss;
  }

  /// dL/dpred of the last forward: N x D.
  const Matrix<T>& backward() const {
    detail::check_loss_backward("BCEWithLogitsLoss::backward", has_forward_);
    return grad_;
  }

 private:
  Matrix<T> grad_;  // N x D
  bool has_forward_ = false;
};

/// Softmax cross-entropy on logits Z (N x K) with class labels y (N values in 0..K-1), mean over rows:
///   L = (1/N) Σ_i [ logsumexp(Z_i) − Z_{i, y_i} ],   dL/dZ = (softmax(Z) − onehot(y)) / N.
/// logsumexp is shifted by each row's maximum, so logits of ±1000 give exact, finite losses
/// (e.g. logits [1000, −1000] with label 1 cost exactly 2000). This is PyTorch's
/// `nn.CrossEntropyLoss` with class-index targets and mean reduction.
template <class T>
class CrossEntropyLoss {
 public:
  /// pred (logits): N x K, target: N labels in 0..K-1. Returns the mean loss over rows and keeps
  /// dL/dpred for backward. Throws std::invalid_argument on an empty batch, a label count that is
  /// not N, NaN/Inf in pred, or a label outside 0..K-1.
  T forward(const Matrix<T>& pred, const Labels& target) {
    constexpr std::string_view where = "CrossEntropyLoss::forward";
    has_forward_ = false;
    detail::check_nonempty(where, "pred", pred);
    detail::check_rows(where, "pred", pred.rows(), "target", target.size());
    detail::check_finite(where, "pred", pred);
    detail::check_labels(where, target, pred.cols());

    const Index N = pred.rows();
    const T inv_n = T(1) / static_cast<T>(N);
    // grad_ = softmax(Z): N x K; row_max_, row_sum_: N, with logsumexp_i = max_i + log(sum_i).
    detail::softmax_rows<T>(pred, grad_, row_max_, row_sum_);
    // Row loss ℓ_i = (max_i − Z_{i,y_i}) + log(sum_i): both terms are >= 0, so nothing cancels.
    // (Σ logsumexp_i − Σ Z_{i,y_i} would subtract two sums of the size of the logits: in float,
    // logits near 1e4 then lose ~3 digits of a loss of order 1.)
    for (Index i = 0; i < N; ++i) row_max_(i) -= pred(i, target(i));
    const T total = (row_max_.array() + row_sum_.array().log()).sum();
    // dL/dZ = (softmax(Z) − onehot(y)) / N.
    for (Index i = 0; i < N; ++i) grad_(i, target(i)) -= T(1);
    grad_ *= inv_n;
    has_forward_ = true;
    return total * inv_n;
  }

  /// dL/dpred of the last forward: N x K.
  const Matrix<T>& backward() const {
    detail::check_loss_backward("CrossEntropyLoss::backward", has_forward_);
    return grad_;
  }

 private:
  Matrix<T> grad_;     // N x K
  Vector<T> row_max_;  // N
  Vector<T> row_sum_;  // N
  bool has_forward_ = false;
};

}  // namespace eigenml::nn
