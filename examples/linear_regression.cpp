// The article's linear-regression walkthrough, corrected: fit y = theta0 + theta1 x by gradient
// descent (learning rate 0.01, 1000 iterations) and compare with the exact least-squares fit.
//
// Data: x = linspace(-1, 1, 100), y = 2 x + 0.33 N(0, 1) (seeded eigenml::Rng).
//
// The gradient. With residuals r_i = theta0 + theta1 x_i - y_i and the mean squared error
//     J(theta) = (1/n) sum_i r_i^2,
// the chain rule gives one partial derivative PER PARAMETER:
//     dJ/dtheta0 = (2/n) sum_i r_i          (d r_i / d theta0 = 1)
//     dJ/dtheta1 = (2/n) sum_i r_i x_i      (d r_i / d theta1 = x_i)
// and the update is theta_j <- theta_j - lr * dJ/dtheta_j, both computed from the same theta.
// The article updates both parameters with one shared gradient (the theta0 one), which is not
// the gradient of J with respect to theta1: the slope then only moves through the intercept's
// error and does not converge to the least-squares line.
//
// The hand-written loop below is that corrected update; the library's LinearRegression with
// optim::SGD on full batches minimises the same J (its iterative objective is the MSE) and takes
// the same steps, which the example checks.

#include <eigenml/linear_model.hpp>
#include <eigenml/optim.hpp>
#include <eigenml/random.hpp>

#include <cmath>
#include <cstdio>

int main() {
  using eigenml::Index;
  using Mat = eigenml::Matrix<double>;
  using Vec = eigenml::Vector<double>;

  const Index n = 100;
  eigenml::Rng rng(42);
  Mat X(n, 1);
  Vec y(n);
  for (Index i = 0; i < n; ++i) {
    X(i, 0) = -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(n - 1);  // linspace(-1, 1, 100)
    y(i) = 2.0 * X(i, 0) + 0.33 * rng.normal();
  }

  // --- gradient descent written out: the corrected article update --------------------------------
  const double lr = 0.01;
  const int iterations = 1000;
  double theta0 = 0.0, theta1 = 0.0;
  for (int it = 0; it < iterations; ++it) {
    const Vec r = (theta0 + theta1 * X.col(0).array() - y.array()).matrix();  // r: n
    const double g0 = 2.0 / static_cast<double>(n) * r.sum();                 // dJ/dtheta0
    const double g1 = 2.0 / static_cast<double>(n) * r.dot(X.col(0));         // dJ/dtheta1
    theta0 -= lr * g0;
    theta1 -= lr * g1;
  }

  // --- the same with the library: full-batch SGD on the MSE --------------------------------------
  eigenml::LinearRegression<double> gd;
  eigenml::optim::SGD<double> sgd({.lr = lr});
  gd.fit(X, y, sgd, {.epochs = iterations, .batch_size = 0});

  // --- the exact least-squares fit ---------------------------------------------------------------
  eigenml::LinearRegression<double> exact;
  exact.fit(X, y);

  auto mse = [&](double t0, double t1) { return (t0 + t1 * X.col(0).array() - y.array()).square().mean(); };
  const double e0 = exact.intercept(), e1 = exact.coef()(0);
  std::printf("data: x = linspace(-1, 1, %ld), y = 2x + 0.33 N(0,1), seed 42\n\n", static_cast<long>(n));
  std::printf("%-32s %12s %12s %14s\n", "", "theta0", "theta1", "MSE");
  std::printf("%-32s %12.8f %12.8f %14.10f\n", "gradient descent (by hand)", theta0, theta1, mse(theta0, theta1));
  std::printf("%-32s %12.8f %12.8f %14.10f\n", "gradient descent (library SGD)", gd.intercept(), gd.coef()(0),
              mse(gd.intercept(), gd.coef()(0)));
  std::printf("%-32s %12.8f %12.8f %14.10f\n", "exact least squares", e0, e1, mse(e0, e1));
  std::printf("\nGD distance from the optimum: |theta - theta*| = %.3e (MSE excess %.3e)\n",
              std::hypot(theta0 - e0, theta1 - e1), mse(theta0, theta1) - mse(e0, e1));
  std::printf("(lr 0.01 contracts the slope error by 1 - 2 lr mean(x^2) = %.5f per step: ~%.1e after %d steps)\n",
              1.0 - 2.0 * lr * X.col(0).squaredNorm() / static_cast<double>(n),
              std::pow(1.0 - 2.0 * lr * X.col(0).squaredNorm() / static_cast<double>(n), iterations), iterations);
  const double agree = std::hypot(theta0 - gd.intercept(), theta1 - gd.coef()(0));
  std::printf("hand-written loop vs library: %.1e apart\n", agree);
  return agree < 1e-12 ? 0 : 1;
}
