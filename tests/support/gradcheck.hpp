#pragma once
// Finite-difference gradient checks shared by every test of a backward pass.
//
// For a layer y = f(x; params) the checked scalar is s = sum(R ⊙ f(x)) for a fixed random R, so
// ds/dx = backward(R). Each input and parameter entry is perturbed by ±h and the central
// difference (s(+h) - s(-h)) / 2h is compared with the analytic gradient through the relative
// error ‖a − b‖ / ‖a + b‖ (0 when both are 0). Run in double: h = 1e-6 gives errors ~1e-9.

#include <eigenml/core.hpp>
#include <eigenml/random.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace eigenml::test {

/// ‖a − b‖ / ‖a + b‖, or 0 when both are zero.
template <class A, class B>
double rel_error(const A& a, const B& b) {
  const double num = (a - b).norm();
  const double den = (a + b).norm();
  return den == 0.0 ? 0.0 : num / den;
}

/// Central-difference gradient of the scalar function `f` with respect to every entry of `x`
/// (perturbed in place and restored).
template <class Derived>
Matrix<double> numeric_gradient(const std::function<double()>& f, Eigen::MatrixBase<Derived>& x, double h = 1e-6) {
  Matrix<double> g(x.rows(), x.cols());
  for (Index i = 0; i < x.rows(); ++i)
    for (Index j = 0; j < x.cols(); ++j) {
      const double old = x(i, j);
      x(i, j) = old + h;
      const double fp = f();
      x(i, j) = old - h;
      const double fm = f();
      x(i, j) = old;
      g(i, j) = (fp - fm) / (2.0 * h);
    }
  return g;
}

struct GradReport {
  double input = 0.0;          // relative error of dL/dX
  std::vector<double> params;  // relative error of each parameter's grad, in parameters() order
  double worst() const {
    double w = input;
    for (double p : params) w = std::max(w, p);
    return w;
  }
};

/// Checks `layer.backward` against central differences of s = sum(R ⊙ layer.forward(X)).
/// The layer must be deterministic in forward (evaluation mode for dropout).
template <class Layer>
GradReport check_layer(Layer& layer, Matrix<double> X, std::uint64_t seed = 1234, double h = 1e-6) {
  Rng rng(seed);
  const Matrix<double> Y0 = layer.forward(X);
  const Matrix<double> R = random_uniform<double>(Y0.rows(), Y0.cols(), rng);
  const Matrix<double> dX = layer.backward(R);
  std::vector<Matrix<double>> grads;
  for (auto* p : layer.parameters()) grads.push_back(p->grad);

  auto s = [&] { return (layer.forward(X).array() * R.array()).sum(); };
  GradReport report;
  report.input = rel_error(dX, numeric_gradient(s, X, h));
  auto params = layer.parameters();
  for (std::size_t k = 0; k < params.size(); ++k)
    report.params.push_back(rel_error(grads[k], numeric_gradient(s, params[k]->value, h)));
  return report;
}

/// Checks `loss.backward()` against central differences of `loss.forward(pred, target)`.
template <class Loss, class Target>
double check_loss(Loss& loss, Matrix<double> pred, const Target& target, double h = 1e-6) {
  loss.forward(pred, target);
  const Matrix<double> g = loss.backward();
  auto f = [&] { return static_cast<double>(loss.forward(pred, target)); };
  return rel_error(g, numeric_gradient(f, pred, h));
}

}  // namespace eigenml::test
