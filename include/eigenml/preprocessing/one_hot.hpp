#pragma once
/// \file preprocessing/one_hot.hpp
/// One-hot encoding of class labels.

#include <Eigen/Core>

#include <string>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"

namespace eigenml::preprocessing {

/// N x K indicator matrix: `out(i, y(i)) = 1`, every other entry 0. Labels must lie in 0..K-1.
template <class T>
Matrix<T> one_hot(const Labels& y, Index num_classes) {
  constexpr const char* where = "one_hot";
  detail::check_nonempty(where, "y", y);
  if (num_classes < 1) detail::fail(where, "num_classes must be >= 1, got " + std::to_string(num_classes));
  detail::check_labels(where, y, num_classes);
  Matrix<T> out = Matrix<T>::Zero(y.size(), num_classes);
  for (Index i = 0; i < y.size(); ++i) out(i, y(i)) = T(1);
  return out;
}

/// As above with `K = max label + 1`.
template <class T>
Matrix<T> one_hot(const Labels& y) {
  detail::check_nonempty("one_hot", "y", y);
  return one_hot<T>(y, static_cast<Index>(y.maxCoeff()) + 1);
}

}  // namespace eigenml::preprocessing
