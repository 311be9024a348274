#pragma once
/// \file nn/dropout.hpp
/// Inverted dropout (Srivastava et al., 2014, in the "inverted" form PyTorch uses): while
/// training each value is kept with probability 1 - p and scaled by 1 / (1 - p), so the expected
/// output equals the input and evaluation needs no rescaling; in evaluation mode it is the identity.

#include <cmath>
#include <cstdint>
#include <string>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"
#include "eigenml/nn/layer.hpp"
#include "eigenml/random.hpp"

namespace eigenml::nn {

/// Training: Y = X ⊙ M with M_ij = 1/(1-p) with probability 1-p, else 0 (drawn from the layer's
/// own `Rng(seed)`, a fresh mask every forward); backward dX = dY ⊙ M with the mask of the last
/// forward. Evaluation: Y = X, dX = dY.
template <class T>
class Dropout final : public LayerBase<Dropout<T>, T> {
 public:
  /// `p` is the probability of dropping a value, in [0, 1).
  explicit Dropout(double p, std::uint64_t seed = 0) : p_(p), rng_(seed) {
    detail::require(std::isfinite(p) && p >= 0.0 && p < 1.0, "Dropout", "p",
                    "must be in [0, 1), got " + std::to_string(p));
  }

  const Matrix<T>& forward(const Matrix<T>& X) override {
    masked_ = this->training_ && p_ > 0.0;
    if (!masked_) {
      Y_ = X;
      return Y_;
    }
    const T scale = static_cast<T>(1.0 / (1.0 - p_));
    mask_.resize(X.rows(), X.cols());  // N x D, reused while the shape is unchanged
    // Scalar draws, one per value: a plain loop over contiguous memory, no virtual calls.
    T* m = mask_.data();
    for (Index k = 0; k < mask_.size(); ++k) m[k] = rng_.uniform() >= p_ ? scale : T(0);
    Y_.resize(X.rows(), X.cols());
    Y_.array() = X.array() * mask_.array();
    return Y_;
  }

  const Matrix<T>& backward(const Matrix<T>& dY) override {
    if (!masked_) {
      dX_ = dY;
      return dX_;
    }
    detail::check_same_shape("Dropout::backward", "dY", dY, "the last forward output", mask_);
    dX_.resize(dY.rows(), dY.cols());
    dX_.array() = dY.array() * mask_.array();  // dX = dY ⊙ M
    return dX_;
  }

  std::string name() const override { return "Dropout"; }

  double p() const { return p_; }
  /// Restarts the mask stream from `seed` (the next forward draws what a fresh layer would).
  void reseed(std::uint64_t seed) { rng_.reseed(seed); }
  /// The mask of the last training forward (entries 0 or 1/(1-p)).
  const Matrix<T>& mask() const { return mask_; }

 private:
  double p_;
  Rng rng_;
  bool masked_ = false;  // whether the last forward applied a mask (training and p > 0)
  Matrix<T> mask_, Y_, dX_;
};

}  // namespace eigenml::nn
