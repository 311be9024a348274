#pragma once
/// \file nn/layer.hpp
/// The one small interface behind every layer, so a `Sequential` composes layers at run time
/// (no nested template types) with one virtual call per layer per batch, never per element.
///
/// Conventions every layer follows:
///  - `forward(X)`: X is `N x input_size()` (one sample per row); keeps what backward needs and
///    returns a reference to its own output buffer (valid until the next forward).
///  - `backward(dY)`: dY = dL/dY, `N x output_size()`; sets every parameter's `grad` (overwrites)
///    to dL/dparam summed over the batch (the loss already divides by the batch size) and returns
///    dL/dX.
///  - Buffers are members resized only when the batch size changes, so a steady-state training
///    step allocates nothing.

#include <memory>
#include <string>
#include <vector>

#include "eigenml/core.hpp"

namespace eigenml::nn {

template <class T>
class Layer {
 public:
  virtual ~Layer() = default;

  virtual const Matrix<T>& forward(const Matrix<T>& X) = 0;
  virtual const Matrix<T>& backward(const Matrix<T>& dY) = 0;

  /// The forward pass for inference only (`Sequential::predict` and `evaluate`, which switch to
  /// evaluation mode first; here it runs in the current mode): the same output, but a layer may
  /// skip keeping what `backward` needs (a dense layer's copy of X), so a `backward` must follow
  /// a `forward`, not an `infer` (`Dense::backward` throws if it does not). In evaluation mode
  /// rows must not interact: `predict` and `evaluate` pad a short last pass with zero rows. By
  /// default, `forward`.
  virtual const Matrix<T>& infer(const Matrix<T>& X) { return forward(X); }

  /// Trainable parameters, in PyTorch's `state_dict` order for the layer.
  virtual std::vector<Parameter<T>*> parameters() { return {}; }

  /// Training mode (dropout active) or evaluation mode.
  virtual void set_training(bool training) { training_ = training; }
  bool training() const { return training_; }

  /// Whether `backward` computes dL/dX (default true). With `false`, a layer may skip that work
  /// (a Dense layer's `dY W`, a convolution's col2im, a recurrent layer's `dA W_ih`) and `backward`
  /// then returns an empty (0 x 0) matrix; parameter gradients are computed as always. The analogue
  /// of an input tensor that does not require grad: `Sequential` clears it on its first layer
  /// when its own input needs no gradient (see `Sequential::set_needs_input_grad`).
  virtual void set_needs_input_grad(bool needed) { needs_input_grad_ = needed; }
  bool needs_input_grad() const { return needs_input_grad_; }

  /// Values per input sample, or -1 when the layer accepts any width (activations).
  virtual Index input_size() const { return -1; }
  /// Values per output sample given `input_size` values per input sample.
  virtual Index output_size(Index input_size) const { return input_size; }

  /// The class name, as in PyTorch (`"Linear"` is spelled `"Dense"` here).
  virtual std::string name() const = 0;

  /// A deep copy (weights and options; buffers need not be copied).
  virtual std::unique_ptr<Layer<T>> clone() const = 0;

 protected:
  Layer() = default;
  Layer(const Layer&) = default;
  Layer& operator=(const Layer&) = default;
  Layer(Layer&&) noexcept = default;
  Layer& operator=(Layer&&) noexcept = default;

  bool training_ = true;
  bool needs_input_grad_ = true;
};

/// CRTP helper: implements `clone` for a concrete layer type.
template <class Derived, class T>
class LayerBase : public Layer<T> {
 public:
  std::unique_ptr<Layer<T>> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
};

}  // namespace eigenml::nn
