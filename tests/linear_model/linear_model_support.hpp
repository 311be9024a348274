#pragma once
// Shared data and helpers of the linear-model tests. The data are closed-form functions of the
// row/column index so tests/reference/linear_models.py rebuilds them exactly.

#include <eigenml/core.hpp>
#include <eigenml/optim/optimizer.hpp>

#include <cmath>
#include <functional>
#include <vector>

namespace eigenml::test {

/// x_ij = sin(1.3 i + 0.7 j^2 + 0.5) + 0.5 cos(0.9 i (j + 1))
template <class T>
Matrix<T> make_x(Index n, Index d) {
  Matrix<T> X(n, d);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < d; ++j) {
      const double di = static_cast<double>(i), dj = static_cast<double>(j);
      X(i, j) = static_cast<T>(std::sin(1.3 * di + 0.7 * dj * dj + 0.5) + 0.5 * std::cos(0.9 * di * (dj + 1)));
    }
  return X;
}

/// y_i = 1.5 x_i0 - 2 x_i1 + 0.5 x_i2 + 0.3 sin(5.1 i) + 0.7
template <class T>
Vector<T> make_y(const Matrix<T>& X) {
  Vector<T> y(X.rows());
  for (Index i = 0; i < X.rows(); ++i)
    y(i) = static_cast<T>(1.5 * double(X(i, 0)) - 2.0 * double(X(i, 1)) + 0.5 * double(X(i, 2)) +
                          0.3 * std::sin(5.1 * double(i)) + 0.7);
  return y;
}

/// Binary labels: x_i0 - x_i1 + 0.8 sin(3.7 i) > 0.
template <class T>
Labels labels2(const Matrix<T>& X) {
  Labels y(X.rows());
  for (Index i = 0; i < X.rows(); ++i) y(i) = double(X(i, 0)) - double(X(i, 1)) + 0.8 * std::sin(3.7 * double(i)) > 0;
  return y;
}

/// Three classes: argmax of [x_i0 + 0.5 sin(2.3 i), x_i1 + 0.5 cos(1.7 i), 0.3].
template <class T>
Labels labels3(const Matrix<T>& X) {
  Labels y(X.rows());
  for (Index i = 0; i < X.rows(); ++i) {
    const double s0 = double(X(i, 0)) + 0.5 * std::sin(2.3 * double(i));
    const double s1 = double(X(i, 1)) + 0.5 * std::cos(1.7 * double(i));
    const double s2 = 0.3;
    y(i) = s0 >= s1 && s0 >= s2 ? 0 : (s1 >= s2 ? 1 : 2);
  }
  return y;
}

template <class T, class V>
Vector<T> vec(std::initializer_list<V> values) {
  Vector<T> v(static_cast<Index>(values.size()));
  Index i = 0;
  for (V x : values) v(i++) = static_cast<T>(x);
  return v;
}

/// Test-only plain gradient descent (value -= lr * grad), independent of optim::SGD. It can also
/// run a hook before each step (to move the parameters or record their gradients).
template <class T>
class PlainGD : public optim::Optimizer<T> {
 public:
  explicit PlainGD(T lr) : optim::Optimizer<T>(lr) {}
  std::function<void(const std::vector<Parameter<T>*>&)> hook;
  int steps = 0;
  void step(const std::vector<Parameter<T>*>& params) override {
    ++steps;
    if (hook) hook(params);
    for (auto* p : params) p->value -= this->lr_ * p->grad;
  }
  void reset() override { steps = 0; }
};

}  // namespace eigenml::test
