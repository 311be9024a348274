#pragma once
// Builders and comparisons shared by the tests that check values against reference numbers
// (tests/reference/*.py).

#include <eigenml/core.hpp>

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace eigenml::test {

/// Tolerance on values of T compared with float64 reference numbers.
template <class T>
constexpr double value_tol = std::is_same_v<T, float> ? 2e-6 : 1e-14;

/// A rows x cols matrix filled row by row from `values` (exactly rows * cols of them).
template <class T>
Matrix<T> mat(Index rows, Index cols, std::initializer_list<double> values) {
  if (static_cast<Index>(values.size()) != rows * cols)
    throw std::logic_error("test::mat: " + std::to_string(values.size()) + " values for a " + std::to_string(rows) +
                           "x" + std::to_string(cols) + " matrix");
  Matrix<T> m(rows, cols);
  auto it = values.begin();
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = static_cast<T>(*it++);
  return m;
}

/// max |a - b| over all entries, compared in double.
template <class A, class B>
double max_abs_diff(const A& a, const B& b) {
  return (a.template cast<double>() - b.template cast<double>()).cwiseAbs().maxCoeff();
}

/// Class labels from a list.
inline Labels labels(std::initializer_list<int> values) {
  Labels y(static_cast<Index>(values.size()));
  Index i = 0;
  for (int v : values) y(i++) = v;
  return y;
}

}  // namespace eigenml::test
