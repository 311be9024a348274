// The article's logistic-regression walkthrough, corrected: 100 standard-normal points in 2-D,
// label = (first feature > 0), three parameters (intercept and two weights) fitted by gradient
// descent (learning rate 0.01, 1000 iterations) beside the exact fit.
//
// The gradient. With X~ = [1 X] (n x 3), p = sigmoid(X~ theta) and the mean log-loss
//     J(theta) = -(1/n) sum_i [ y_i log p_i + (1 - y_i) log(1 - p_i) ],
// sigma'(z) = sigma(z)(1 - sigma(z)) makes the per-sample derivative in z_i simply p_i - y_i, so
//     grad J = (1/n) X~^T (p - y)            (3 values, one per parameter)
// and gradient DESCENT is theta <- theta - lr * grad J. The article's gradient has the opposite
// sign (y - p, which climbs the loss when subtracted) and the wrong shape (it is not contracted
// with X~, so it is not one value per parameter).
//
// The data are linearly separable (the label is a sign of a feature), so the unpenalised
// log-loss has no finite minimiser: its infimum 0 is approached as ||theta|| -> infinity. The
// exact fit therefore uses scikit-learn's default penalty (C = 1); the unpenalised exact fit is
// also run to show that it stops with finite coefficients and reports converged() == false.

#include <eigenml/linear_model.hpp>
#include <eigenml/optim.hpp>
#include <eigenml/random.hpp>

#include <cmath>
#include <cstdio>
#include <limits>

int main() {
  using eigenml::Index;
  using Mat = eigenml::Matrix<double>;
  using Vec = eigenml::Vector<double>;

  const Index n = 100;
  eigenml::Rng rng(42);
  const Mat X = eigenml::random_normal<double>(n, 2, rng);
  eigenml::Labels y(n);
  for (Index i = 0; i < n; ++i) y(i) = X(i, 0) > 0.0 ? 1 : 0;
  const Vec yd = y.cast<double>();

  // --- gradient descent written out: the corrected article update --------------------------------
  const double lr = 0.01;
  const int iterations = 1000;
  Mat Xt(n, 3);  // X~ = [1 X]
  Xt << Vec::Ones(n), X;
  Vec theta = Vec::Zero(3);
  for (int it = 0; it < iterations; ++it) {
    const Vec z = Xt * theta;                                                  // z: n
    const Vec p = z.unaryExpr([](double v) { return 1.0 / (1.0 + std::exp(-v)); });
    const Vec grad = Xt.transpose() * (p - yd) / static_cast<double>(n);      // grad: 3
    theta -= lr * grad;
  }

  // --- the same with the library: unpenalised (C = inf), full-batch SGD on the mean log-loss ------
  const double inf = std::numeric_limits<double>::infinity();
  eigenml::LogisticRegression<double> gd({.fit_intercept = true, .C = inf});
  eigenml::optim::SGD<double> sgd({.lr = lr});
  gd.fit(X, y, sgd, {.epochs = iterations, .batch_size = 0});

  // --- exact fits ---------------------------------------------------------------------------------
  eigenml::LogisticRegression<double> exact;  // C = 1 (scikit-learn's default)
  exact.fit(X, y);
  eigenml::LogisticRegression<double> unpenalised({.fit_intercept = true, .C = inf});
  unpenalised.fit(X, y);

  auto log_loss = [&](const eigenml::LogisticRegression<double>& m) {
    const Mat P = m.predict_proba(X);
    double s = 0.0;
    for (Index i = 0; i < n; ++i) s -= std::log(std::max(P(i, y(i)), 1e-300));
    return s / static_cast<double>(n);
  };
  auto row = [&](const char* name, const eigenml::LogisticRegression<double>& m) {
    std::printf("%-36s %10.5f %10.5f %10.5f %9.2f%% %10.6f\n", name, m.intercept()(0), m.coef()(0, 0), m.coef()(0, 1),
                100.0 * m.score(X, y), log_loss(m));
  };
  std::printf("data: 100 x 2 standard normal (seed 42), label = x0 > 0\n\n");
  std::printf("%-36s %10s %10s %10s %10s %10s\n", "", "b", "w0", "w1", "accuracy", "log-loss");
  std::printf("%-36s %10.5f %10.5f %10.5f %10s %10s\n", "gradient descent (by hand)", theta(0), theta(1), theta(2), "",
              "");
  row("gradient descent (library SGD)", gd);
  row("exact, C = 1", exact);
  row("exact, no penalty", unpenalised);
  std::printf("\nexact C = 1: %d Newton iterations, converged %s, max|grad F| = %.2e\n", exact.n_iter(),
              exact.converged() ? "yes" : "no", exact.final_gradient_max());
  std::printf("exact without penalty: separable data, converged %s (no finite optimum), |w| = %.1f after %d "
              "iterations\n",
              unpenalised.converged() ? "yes" : "no", unpenalised.coef().norm(), unpenalised.n_iter());
  const double agree = std::sqrt(std::pow(theta(0) - gd.intercept()(0), 2) +
                                 (theta.tail(2).transpose() - gd.coef()).squaredNorm());
  std::printf("hand-written loop vs library: %.1e apart\n", agree);
  return agree < 1e-12 ? 0 : 1;
}
