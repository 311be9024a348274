#include <catch2/catch.hpp>

#include <eigenml/nn/activations.hpp>
#include <eigenml/nn/dense.hpp>
#include <eigenml/nn/dropout.hpp>
#include <eigenml/nn/flatten.hpp>
#include <eigenml/nn/sequential.hpp>
#include <eigenml/random.hpp>

#include "support/gradcheck.hpp"

#include <stdexcept>
#include <utility>

using namespace eigenml;

TEMPLATE_TEST_CASE("Sequential: add checks widths and names both numbers", "[nn][sequential]", float, double) {
  using T = TestType;
  nn::Sequential<T> net;
  CHECK(net.empty());
  CHECK(net.input_size() == -1);
  net.add(nn::Flatten<T>()).add(nn::Dense<T>(784, 392)).add(nn::ReLU<T>());
  CHECK(net.size() == 3);
  CHECK(net.input_size() == 784);
  CHECK(net.output_size(784) == 392);
  CHECK_THROWS_WITH(net.add(nn::Dense<T>(784, 10)),
                    Catch::Contains("Dense") && Catch::Contains("expects 784 inputs") &&
                        Catch::Contains("outputs 392"));
  CHECK(net.size() == 3);  // the rejected layer was not added
  net.add(nn::Dense<T>(392, 10));
  CHECK(net.output_size(784) == 10);
  CHECK(net.layer(1).name() == "Dense");
  CHECK(net.layer(2).name() == "ReLU");
  CHECK_THROWS_AS(net.layer(4), std::out_of_range);
  CHECK_THROWS_WITH(net.add(std::unique_ptr<nn::Layer<T>>()), Catch::Contains("null"));
}

TEMPLATE_TEST_CASE("Sequential: forward chains layers, parameters in order", "[nn][sequential]", float, double) {
  using T = TestType;
  nn::Dense<T> d1(4, 3, 1), d2(3, 2, 2);
  nn::Sequential<T> net;
  net.add(d1).add(nn::Tanh<T>()).add(d2);  // copies: d1 and d2 stay the caller's
  auto params = net.parameters();
  REQUIRE(params.size() == 4);
  CHECK(params[0]->value == d1.weight().value);
  CHECK(params[1]->value.rows() == 3);
  CHECK(params[2]->value == d2.weight().value);
  CHECK(params[3]->value.rows() == 2);
  CHECK(params[0] != &d1.weight());

  Rng rng(3);
  const Matrix<T> X = random_uniform<T>(5, 4, rng);
  const Matrix<T> H = (X * d1.weight().value.transpose()).array().tanh().matrix();
  const Matrix<T> expected = H * d2.weight().value.transpose();  // zero biases
  const Matrix<T> Y = net.forward(X);
  CHECK((Y - expected).norm() <= (std::is_same_v<T, float> ? 1e-5 : 1e-13));
  CHECK_THROWS_WITH(net.forward(Matrix<T>::Zero(5, 3)), Catch::Contains("5x3") && Catch::Contains("4 columns"));
  nn::Sequential<T> empty;
  CHECK_THROWS_WITH(empty.forward(X), Catch::Contains("no layers"));
}

TEST_CASE("Sequential: whole-network gradient check (Dense-Tanh-Dense, with Flatten)", "[nn][sequential][gradcheck]") {
  nn::Sequential<double> net;
  net.add(nn::Flatten<double>()).add(nn::Dense<double>(6, 5, 1)).add(nn::Tanh<double>()).add(nn::Dense<double>(5, 3, 2));
  Rng rng(9);
  for (auto* p : net.parameters()) rng.fill_uniform(p->value, -0.8, 0.8);  // non-zero biases too
  const auto report = test::check_layer(net, random_uniform<double>(4, 6, rng));
  CHECK(report.input < 1e-7);
  REQUIRE(report.params.size() == 4);
  for (double e : report.params) CHECK(e < 1e-7);
}

TEST_CASE("Sequential: gradient check in float against double differences", "[nn][sequential][gradcheck]") {
  // The float network's analytic gradient agrees with the double network's to float precision.
  nn::Sequential<float> f;
  f.add(nn::Dense<float>(6, 5, 1)).add(nn::Tanh<float>()).add(nn::Dense<float>(5, 3, 2));
  nn::Sequential<double> d;
  d.add(nn::Dense<double>(6, 5, 1)).add(nn::Tanh<double>()).add(nn::Dense<double>(5, 3, 2));
  auto pf = f.parameters();
  auto pd = d.parameters();
  for (std::size_t k = 0; k < pf.size(); ++k) pd[k]->value = pf[k]->value.cast<double>();
  Rng rng(4);
  const Matrix<double> X = random_uniform<double>(4, 6, rng);
  const Matrix<double> R = random_uniform<double>(4, 3, rng);
  f.forward(X.cast<float>());
  const Matrix<float> dXf = f.backward(R.cast<float>());
  d.forward(X);
  const Matrix<double> dXd = d.backward(R);
  CHECK(test::rel_error(dXf.cast<double>(), dXd) < 1e-5);
  for (std::size_t k = 0; k < pf.size(); ++k) CHECK(test::rel_error(pf[k]->grad.cast<double>(), pd[k]->grad) < 1e-5);
}

TEMPLATE_TEST_CASE("Sequential: copies are deep, moves transfer", "[nn][sequential]", float, double) {
  using T = TestType;
  nn::Sequential<T> net;
  net.add(nn::Dense<T>(3, 4, 1)).add(nn::ReLU<T>()).add(nn::Dense<T>(4, 2, 2));
  nn::Sequential<T> copy(net);
  REQUIRE(copy.size() == 3);
  CHECK(copy.parameters()[0]->value == net.parameters()[0]->value);
  copy.parameters()[0]->value.setZero();
  CHECK_FALSE(net.parameters()[0]->value.isZero());
  CHECK(copy.input_size() == 3);
  CHECK_THROWS_AS(copy.add(nn::Dense<T>(3, 1)), std::invalid_argument);  // width tracking copied

  nn::Sequential<T> assigned;
  assigned = net;
  CHECK(assigned.parameters()[2]->value == net.parameters()[2]->value);
  assigned.parameters()[2]->value.setZero();
  CHECK_FALSE(net.parameters()[2]->value.isZero());

  auto cloned = net.clone();
  CHECK(cloned->name() == "Sequential");
  CHECK(cloned->parameters().size() == 4);

  nn::Sequential<T> moved(std::move(copy));
  CHECK(moved.size() == 3);
  CHECK(moved.parameters()[0]->value.isZero());
}

TEMPLATE_TEST_CASE("Sequential: set_training reaches every layer, also layers added later", "[nn][sequential]", float,
                   double) {
  using T = TestType;
  nn::Sequential<T> net;
  net.add(nn::Dense<T>(3, 3)).add(nn::Dropout<T>(0.5));
  net.set_training(false);
  CHECK_FALSE(net.training());
  CHECK_FALSE(net.layer(1).training());
  net.add(nn::Dropout<T>(0.5));
  CHECK_FALSE(net.layer(2).training());
  net.set_training(true);
  CHECK(net.layer(0).training());
  CHECK(net.layer(2).training());
}

TEMPLATE_TEST_CASE("Sequential: initialize uses He before ReLU, Glorot otherwise, zero biases, seeded",
                   "[nn][sequential]", float, double) {
  using T = TestType;
  auto make = [] {
    nn::Sequential<T> net;
    net.add(nn::Dense<T>(50, 40)).add(nn::ReLU<T>()).add(nn::Dense<T>(40, 30)).add(nn::Tanh<T>()).add(nn::Dense<T>(30, 20));
    return net;
  };
  nn::Sequential<T> a = make(), b = make(), c = make();
  for (auto* p : a.parameters()) p->value.setConstant(T(7));
  a.initialize(42);
  b.initialize(42);
  c.initialize(43);
  auto pa = a.parameters(), pb = b.parameters(), pc = c.parameters();
  for (std::size_t k = 0; k < pa.size(); ++k) CHECK(pa[k]->value == pb[k]->value);  // bit-identical
  CHECK(pa[0]->value != pc[0]->value);
  CHECK(pa[1]->value.isZero());
  CHECK(pa[3]->value.isZero());
  const double he = std::sqrt(6.0 / 50), glorot0 = std::sqrt(6.0 / 90);
  const T m0 = pa[0]->value.cwiseAbs().maxCoeff();
  CHECK(m0 <= T(he));
  CHECK(m0 > T(glorot0));  // wider than Glorot would allow: He was used
  const double glorot1 = std::sqrt(6.0 / 70);
  const T m1 = pa[2]->value.cwiseAbs().maxCoeff();
  CHECK(m1 <= T(glorot1));  // followed by Tanh: Glorot
  CHECK(m1 > T(0.9 * glorot1));
  // The three Dense layers draw from one stream: different layers get different numbers.
  CHECK(pa[2]->value.topLeftCorner(20, 20) != pa[4]->value.topLeftCorner(20, 20));
}
