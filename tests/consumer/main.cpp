// Fits y = 3x + 1 with a closed form the consumer writes itself and checks eigenml's types and
// randomness link and run from an installed or embedded eigenml.
#include <eigenml/eigenml.hpp>

#include <cmath>
#include <cstdio>

int main() {
  eigenml::Rng rng(7);
  eigenml::Matrix<double> X = eigenml::random_uniform<double>(50, 1, rng);
  eigenml::Vector<double> y = (3.0 * X.col(0)).array() + 1.0;
  const double mx = X.col(0).mean(), my = y.mean();
  const double slope = ((X.col(0).array() - mx) * (y.array() - my)).sum() / (X.col(0).array() - mx).square().sum();
  std::printf("slope %.6f\n", slope);
  return std::abs(slope - 3.0) < 1e-9 ? 0 : 1;
}
