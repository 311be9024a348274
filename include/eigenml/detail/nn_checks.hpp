#pragma once
/// \file detail/nn_checks.hpp
/// Preconditions shared by the activation layers and the losses (nn/activations.hpp,
/// nn/losses.hpp). Each throws std::invalid_argument through detail::fail, naming the caller.

#include <Eigen/Core>

#include <string>
#include <string_view>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"

namespace eigenml::detail {

/// An activation's backward: a forward ran, and dY has the shape of its output (the message names
/// both shapes).
template <class T>
void check_activation_backward(std::string_view where, bool has_forward, const Matrix<T>& dY, Index rows,
                               Index cols) {
  if (!has_forward) fail(where, "backward called before forward");
  if (dY.rows() != rows || dY.cols() != cols)
    fail(where, "dY has shape " + shape_of(dY) + " but the last forward output has shape " + shape_str(rows, cols));
}

/// A loss's backward: a forward ran (and succeeded).
inline void check_loss_backward(std::string_view where, bool has_forward) {
  if (!has_forward) fail(where, "backward called before forward");
}

/// Every entry of `y` must lie in [0, 1]; the message names the first one outside.
template <class Derived>
void check_unit_interval(std::string_view where, std::string_view name, const Eigen::DenseBase<Derived>& y) {
  using T = typename Derived::Scalar;
  // One vectorised pass in the common case; the search below only runs to build the message.
  if (((y.derived().array() >= T(0)) && (y.derived().array() <= T(1))).all()) return;
  for (Index i = 0; i < y.rows(); ++i)
    for (Index j = 0; j < y.cols(); ++j)
      if (!(y(i, j) >= T(0) && y(i, j) <= T(1)))
        fail(where, std::string(name) + " value " + std::to_string(static_cast<double>(y(i, j))) + " at row " +
                        std::to_string(i) + ", column " + std::to_string(j) + " is outside [0, 1]");
}

}  // namespace eigenml::detail
