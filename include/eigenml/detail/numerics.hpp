#pragma once
/// \file detail/numerics.hpp
/// Numerically stable scalar and row-wise primitives: no overflow for inputs of any size,
/// no NaN unless the input is NaN.

#include <Eigen/Core>

#include <cmath>

#include "eigenml/core.hpp"

namespace eigenml::detail {

/// 1 / (1 + exp(-x)), evaluated so exp never overflows.
template <class T>
T sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

/// log(1 + exp(x)) (softplus) without overflow for large x or loss of precision for small.
template <class T>
T log1pexp(T x) {
  return x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

/// log(sigmoid(x)) = -log1pexp(-x).
template <class T>
T log_sigmoid(T x) {
  return -log1pexp(-x);
}

/// Row-wise log-sum-exp: out(i) = log sum_j exp(Z(i, j)), shifted by the row maximum.
template <class T, class Derived>
void logsumexp_rows(const Eigen::MatrixBase<Derived>& Z, Vector<T>& out) {
  out.resize(Z.rows());
  for (Index i = 0; i < Z.rows(); ++i) {
    const T m = Z.row(i).maxCoeff();
    out(i) = m + std::log((Z.row(i).array() - m).exp().sum());
  }
}

/// Row-wise softmax into `P` (same shape as `Z`), shifted by the row maximum.
template <class T, class Derived>
void softmax_rows(const Eigen::MatrixBase<Derived>& Z, Matrix<T>& P) {
  P.resize(Z.rows(), Z.cols());
  for (Index i = 0; i < Z.rows(); ++i) {
    const T m = Z.row(i).maxCoeff();
    P.row(i) = (Z.row(i).array() - m).exp().matrix();
    P.row(i) /= P.row(i).sum();
  }
}

}  // namespace eigenml::detail
