#pragma once
/// \file detail/check.hpp
/// Input validation shared by every public entry point. Each check throws std::invalid_argument
/// with a message that names the caller, the argument and what was wrong with it.

#include <Eigen/Core>

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

#include "eigenml/core.hpp"

namespace eigenml::detail {

inline std::string shape_str(Index rows, Index cols) { return std::to_string(rows) + "x" + std::to_string(cols); }

template <class Derived>
std::string shape_of(const Eigen::EigenBase<Derived>& m) {
  return shape_str(m.rows(), m.cols());
}

[[noreturn]] inline void fail(std::string_view where, const std::string& what) {
  throw std::invalid_argument(std::string(where) + ": " + what);
}

/// `a` and `b` must have the same shape.
template <class A, class B>
void check_same_shape(std::string_view where, std::string_view name_a, const Eigen::EigenBase<A>& a,
                      std::string_view name_b, const Eigen::EigenBase<B>& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols())
    fail(where, std::string(name_a) + " has shape " + shape_of(a) + " but " + std::string(name_b) + " has shape " +
                    shape_of(b));
}

/// `x` must have exactly `cols` columns (features per sample).
template <class Derived>
void check_cols(std::string_view where, std::string_view name, const Eigen::EigenBase<Derived>& x, Index cols) {
  if (x.cols() != cols)
    fail(where, std::string(name) + " has shape " + shape_of(x) + ", expected " + std::to_string(cols) +
                    " columns (N x " + std::to_string(cols) + ")");
}

/// Two arguments must describe the same number of samples.
inline void check_rows(std::string_view where, std::string_view name_a, Index rows_a, std::string_view name_b,
                       Index rows_b) {
  if (rows_a != rows_b)
    fail(where, std::string(name_a) + " has " + std::to_string(rows_a) + " rows but " + std::string(name_b) +
                    " has " + std::to_string(rows_b));
}

template <class Derived>
void check_nonempty(std::string_view where, std::string_view name, const Eigen::EigenBase<Derived>& x) {
  if (x.size() == 0) fail(where, std::string(name) + " is empty (shape " + shape_of(x) + ")");
}

/// Whether the `n` values at `x` are all finite, in one branch-free SIMD pass: sum(x * 0) is 0 when
/// every value is finite and NaN otherwise (Inf * 0 = NaN, and NaN propagates through the sum).
/// Eigen's allFinite() and hasNaN() are scalar loops, several times slower on large inputs (~30% of
/// a large linear fit).
template <class S>
bool all_finite(const S* x, Index n) {
  return std::isfinite(static_cast<double>((Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>>(x, n) * S(0)).sum()));
}

/// Whether every value of `x` is finite. Anything stored with unit inner stride (a matrix, a `Ref`,
/// a block of rows or columns) goes through the pointer form above, slice by slice unless it is
/// one contiguous run: one compiled kernel for all of them instead of one per expression type.
template <class Derived>
bool all_finite(const Eigen::DenseBase<Derived>& x) {
  using S = typename Derived::Scalar;
  const Derived& d = x.derived();
  if constexpr ((Derived::Flags & Eigen::DirectAccessBit) != 0 && Derived::InnerStrideAtCompileTime == 1) {
    if (d.outerStride() == d.innerSize() || d.outerSize() <= 1) return all_finite(d.data(), d.size());
    for (Index o = 0; o < d.outerSize(); ++o)
      if (!all_finite(d.data() + o * d.outerStride(), d.innerSize())) return false;
    return true;
  } else {
    return std::isfinite(static_cast<double>((d.array() * S(0)).sum()));
  }
}

/// Every value of `x` must be finite; the message names the first offending row and column.
template <class Derived>
void check_finite(std::string_view where, std::string_view name, const Eigen::DenseBase<Derived>& x) {
  if (all_finite(x)) return;  // the element-by-element search below only builds the message
  for (Index i = 0; i < x.rows(); ++i)
    for (Index j = 0; j < x.cols(); ++j)
      if (!std::isfinite(static_cast<double>(x(i, j))))
        fail(where, std::string(name) + " contains " + (std::isnan(static_cast<double>(x(i, j))) ? "NaN" : "Inf") +
                        " at row " + std::to_string(i) + ", column " + std::to_string(j));
}

/// Every label must lie in 0..num_classes-1.
inline void check_labels(std::string_view where, const Labels& y, Index num_classes) {
  for (Index i = 0; i < y.size(); ++i)
    if (y(i) < 0 || y(i) >= num_classes)
      fail(where, "label " + std::to_string(y(i)) + " at row " + std::to_string(i) + " is outside 0.." +
                      std::to_string(num_classes - 1));
}

/// A hyperparameter check for option structs: `ok` or throw naming the field.
inline void require(bool ok, std::string_view where, std::string_view field, const std::string& why) {
  if (!ok) fail(where, std::string(field) + " " + why);
}

}  // namespace eigenml::detail
