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

/// Element-wise logistic sigmoid of an array expression into `out` (same shape), vectorised and
/// stable: with e = exp(-|x|) (never overflows), sigmoid(x) = 1 / (1 + e) for x >= 0 and
/// e / (1 + e) for x < 0, so both tails keep full relative precision. One exp per element.
/// `out` is resized to x's shape and must not alias `x`.
template <class T, class Derived>
void sigmoid_array(const Eigen::ArrayBase<Derived>& x, Matrix<T>& out) {
  out.resize(x.rows(), x.cols());
  // Coefficient-wise expressions: reading `out` while writing it is safe element by element.
  out.array() = (-x.abs()).exp();
  out.array() = (x >= T(0)).select(T(1) / (T(1) + out.array()), out.array() / (T(1) + out.array()));
}

/// Row-wise softmax of `Z` into `P` (same shape), shifted by each row's maximum, using the caller's
/// buffers `row_max` and `row_sum` (length N) so a steady-state call allocates nothing.
/// Afterwards `row_max(i) + log(row_sum(i))` is row i's log-sum-exp. `P` must not alias `Z`.
template <class T, class Derived>
void softmax_rows(const Eigen::MatrixBase<Derived>& Z, Matrix<T>& P, Vector<T>& row_max, Vector<T>& row_sum) {
  row_max.resize(Z.rows());
  row_sum.resize(Z.rows());
  P.resize(Z.rows(), Z.cols());
  row_max = Z.rowwise().maxCoeff();
  // Z - max <= 0 in every entry, so exp never overflows and the row sum is in [1, K].
  P.array() = (Z.array().colwise() - row_max.array()).exp();
  row_sum = P.rowwise().sum();
  P.array().colwise() /= row_sum.array();
}

/// Row-wise softmax of `Z` into `P`, the convenience form of the overload above (it allocates
/// its two row buffers; use the overload above on a hot path).
template <class T, class Derived>
void softmax_rows(const Eigen::MatrixBase<Derived>& Z, Matrix<T>& P) {
  Vector<T> row_max, row_sum;
  softmax_rows<T>(Z, P, row_max, row_sum);
}

/// Row-wise log-sum-exp: out(i) = log Σ_j exp(Z(i, j)) = m_i + log Σ_j exp(Z(i, j) − m_i) with
/// m_i = max_j Z(i, j), so exp never overflows and the sum is in [1, K].
template <class T, class Derived>
void logsumexp_rows(const Eigen::MatrixBase<Derived>& Z, Vector<T>& out) {
  out = Z.rowwise().maxCoeff();
  const Vector<T> sums = (Z.array().colwise() - out.array()).exp().rowwise().sum();
  out.array() += sums.array().log();
}

}  // namespace eigenml::detail
