#pragma once
/// \file nn/flatten.hpp
/// `Flatten`: the identity. eigenml batches are already one flat row per sample (an image row is
/// its C x H x W values in C order), so the layer exists only so a network can mirror a PyTorch
/// `nn.Sequential` index for index (and its `state_dict` names `3.weight` line up).

#include <string>

#include "eigenml/core.hpp"
#include "eigenml/nn/layer.hpp"

namespace eigenml::nn {

/// Y = X, dX = dY (any width). The output is a copy held by the layer, so the returned reference
/// stays valid however the caller's input lives.
template <class T>
class Flatten final : public LayerBase<Flatten<T>, T> {
 public:
  Flatten() = default;

  const Matrix<T>& forward(const Matrix<T>& X) override {
    Y_ = X;  // N x D -> N x D (no allocation when the shape is unchanged)
    return Y_;
  }

  const Matrix<T>& backward(const Matrix<T>& dY) override {
    dX_ = dY;
    return dX_;
  }

  std::string name() const override { return "Flatten"; }

 private:
  Matrix<T> Y_, dX_;
};

}  // namespace eigenml::nn
