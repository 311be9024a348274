#include <catch2/catch.hpp>

#include <eigenml/detail/numerics.hpp>
#include <eigenml/nn/activations.hpp>
#include <eigenml/random.hpp>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "support/gradcheck.hpp"
#include "support/values.hpp"

using namespace eigenml;
using test::mat;
using test::max_abs_diff;
using test::value_tol;

namespace {

// forward(X) and backward(dY) on the fixed inputs of tests/reference/losses_activations.py,
// against PyTorch's float64 values.
template <class T, class Layer>
void check_against_reference(Layer& layer, std::initializer_list<double> y, std::initializer_list<double> dx) {
  const Matrix<T> X = mat<T>(2, 4, {-2.0, -0.5, 0.25, 1.5, 3.0, -1.25, 0.75, -4.0});
  const Matrix<T> dY = mat<T>(2, 4, {0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 1.0, -2.0});
  const Matrix<T> Y = layer.forward(X);
  CHECK(max_abs_diff(Y, mat<double>(2, 4, y)) <= value_tol<T>);
  const Matrix<T> dX = layer.backward(dY);
  CHECK(max_abs_diff(dX, mat<double>(2, 4, dx)) <= value_tol<T>);
}

// Random inputs in [-3, 3], pushed at least `gap` away from 0 (keeps finite differences off a kink).
Matrix<double> random_input(Index rows, Index cols, std::uint64_t seed, double gap) {
  Rng rng(seed);
  Matrix<double> X = random_uniform<double>(rows, cols, rng, -3.0, 3.0);
  return X.unaryExpr([gap](double v) { return v < 0 ? v - gap : v + gap; });
}

// The double layer passes the finite-difference check; the T layer agrees with the double layer
// on the same data (forward and backward) to T's precision.
template <class T, class LayerD, class LayerT>
void check_gradients(LayerD& layer_d, LayerT& layer, double gap) {
  const Matrix<double> X = random_input(5, 7, 42, gap);
  const auto report = test::check_layer(layer_d, X);
  CHECK(report.params.empty());
  CHECK(report.input < 1e-8);

  Rng rng(43);
  const Matrix<double> R = random_uniform<double>(5, 7, rng);
  const Matrix<double> Yd = layer_d.forward(X);
  const Matrix<double> dXd = layer_d.backward(R);
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-15;
  CHECK(test::rel_error(layer.forward(X.cast<T>()).template cast<double>(), Yd) <= tol);
  CHECK(test::rel_error(layer.backward(R.cast<T>()).template cast<double>(), dXd) <= tol);
}

// Everything every activation shares: its name, any width in and the same width out, no
// parameters, a working clone, buffers reused across batches of one shape, and the two error paths
// of backward (before forward; dY not shaped like the last output, naming both shapes).
// `layer` must be fresh (no forward yet).
template <class T, class Layer>
void check_common(Layer layer, const std::string& name) {
  CHECK(layer.name() == name);
  CHECK(layer.input_size() == -1);
  CHECK(layer.output_size(7) == 7);
  CHECK(layer.parameters().empty());

  CHECK_THROWS_WITH(layer.backward(Matrix<T>::Zero(2, 3)), name + "::backward: backward called before forward");

  Rng rng(1);
  const Matrix<T> A = random_normal<T>(4, 3, rng), B = random_normal<T>(4, 3, rng);
  const T* y = layer.forward(A).data();
  const T* dx = layer.backward(B).data();
  CHECK(layer.forward(B).data() == y);
  CHECK(layer.backward(A).data() == dx);

  CHECK_THROWS_WITH(layer.backward(Matrix<T>::Zero(4, 2)),
                    name + "::backward: dY has shape 4x2 but the last forward output has shape 4x3");
  CHECK_THROWS_WITH(layer.backward(Matrix<T>::Zero(3, 3)), Catch::Contains("dY has shape 3x3"));

  // The clone is an independent layer of the same kind computing the same function.
  const Matrix<T> Y = layer.forward(A);
  std::unique_ptr<nn::Layer<T>> copy = layer.clone();
  CHECK(copy->name() == name);
  CHECK(copy->forward(A) == Y);
  CHECK(copy->backward(B) == layer.backward(B));
}

// Inputs of ±1000 (and moderate ones beside them) give finite outputs and gradients.
template <class T, class Layer>
void check_finite_at_extremes(Layer& layer, std::initializer_list<double> y, std::initializer_list<double> dx) {
  const Matrix<T> X = mat<T>(1, 4, {1000, -1000, 0.5, -0.5});
  const Matrix<T> Y = layer.forward(X);
  REQUIRE(Y.allFinite());
  CHECK(max_abs_diff(Y, mat<double>(1, 4, y)) <= 10 * value_tol<T>);
  const Matrix<T> dX = layer.backward(Matrix<T>::Ones(1, 4));
  REQUIRE(dX.allFinite());
  CHECK(max_abs_diff(dX, mat<double>(1, 4, dx)) <= 10 * value_tol<T>);
}

}  // namespace

TEMPLATE_TEST_CASE("ReLU", "[nn][activations]", float, double) {
  using T = TestType;
  nn::ReLU<T> layer;
  check_against_reference<T>(layer, {0, 0, 0.25, 1.5, 3, 0, 0.75, 0}, {0, 0, 2, 0.25, -0.75, 0, 1, 0});
  nn::ReLU<double> layer_d;
  check_gradients<T>(layer_d, layer, 0.05);
  check_finite_at_extremes<T>(layer, {1000, 0, 0.5, 0}, {1, 0, 1, 0});
  // At exactly 0 the gradient is 0, as in PyTorch.
  layer.forward(Matrix<T>::Zero(1, 2));
  CHECK(layer.backward(Matrix<T>::Ones(1, 2)).isZero(0));
  check_common<T>(nn::ReLU<T>(), "ReLU");
}

TEMPLATE_TEST_CASE("ReLU and LeakyReLU follow their definitions bit for bit on every kind of value",
                   "[nn][activations]", float, double) {
  // The layers run on whole vector registers and a scalar tail: 3 x 37 values cover both, with
  // every kind of x (negative, -0, +0, NaN, subnormal, large, +-inf) against every kind of dY.
  // ReLU's backward passes dY (NaN and +-inf too) where y > 0 and gives +0 elsewhere;
  // LeakyReLU's forward and backward take x's sign, then v or slope * v.
  using T = TestType;
  using lim = std::numeric_limits<T>;
  const std::vector<T> xs = {T(-1), T(-0.0), T(0), lim::quiet_NaN(), lim::denorm_min(), T(2), lim::max(), lim::infinity(),
                             -lim::infinity()};
  const std::vector<T> dys = {T(1.5), T(-2), T(-0.0), lim::quiet_NaN(), lim::infinity(), -lim::infinity(), T(0)};
  Matrix<T> X(3, 37), dY(3, 37);
  for (Index i = 0; i < X.size(); ++i) {
    X.data()[i] = xs[static_cast<std::size_t>(i) % xs.size()];
    dY.data()[i] = dys[static_cast<std::size_t>(i) % dys.size()];
  }
  auto same = [](T got, T want) {
    return std::isnan(want) ? std::isnan(got) : got == want && std::signbit(got) == std::signbit(want);
  };
  nn::ReLU<T> relu;
  const Matrix<T> Y = relu.forward(X);
  const Matrix<T> dX = relu.backward(dY);
  const T slope = T(0.25);
  nn::LeakyReLU<T> leaky(slope);
  const Matrix<T> Yl = leaky.forward(X);
  const Matrix<T> dXl = leaky.backward(dY);
  for (Index i = 0; i < X.size(); ++i) {
    const T x = X.data()[i], dy = dY.data()[i], y = Y.data()[i];
    INFO("x = " << x << ", y = " << y << ", dy = " << dy);
    CHECK(same(dX.data()[i], y > T(0) ? dy : T(0)));
    CHECK(same(Yl.data()[i], x > T(0) ? x : slope * x));
    CHECK(same(dXl.data()[i], x > T(0) ? dy : slope * dy));
  }
}

TEMPLATE_TEST_CASE("LeakyReLU", "[nn][activations]", float, double) {
  using T = TestType;
  CHECK(nn::LeakyReLU<T>().slope() == T(0.01));
  nn::LeakyReLU<T> layer(T(0.1));
  CHECK(layer.slope() == T(0.1));
  check_against_reference<T>(
      layer, {-0.20000000000000001, -0.050000000000000003, 0.25, 1.5, 3, -0.125, 0.75, -0.40000000000000002},
      {0.050000000000000003, -0.10000000000000001, 2, 0.25, -0.75, 0.15000000000000002, 1, -0.20000000000000001});
  nn::LeakyReLU<double> layer_d(0.1);
  check_gradients<T>(layer_d, layer, 0.05);
  check_finite_at_extremes<T>(layer, {1000, -100, 0.5, -0.05}, {1, 0.1, 1, 0.1});
  // A negative slope is allowed (the input, not the output's sign, picks the branch).
  nn::LeakyReLU<double> negative(-0.5);
  CHECK(test::check_layer(negative, random_input(3, 4, 7, 0.05)).input < 1e-8);
  check_common<T>(nn::LeakyReLU<T>(T(0.1)), "LeakyReLU");
  CHECK(dynamic_cast<nn::LeakyReLU<T>&>(*layer.clone()).slope() == T(0.1));

  CHECK_THROWS_WITH(nn::LeakyReLU<T>(std::numeric_limits<T>::quiet_NaN()),
                    "LeakyReLU: slope must be finite");
  CHECK_THROWS_WITH(nn::LeakyReLU<T>(std::numeric_limits<T>::infinity()), Catch::Contains("slope"));
}

TEMPLATE_TEST_CASE("Sigmoid", "[nn][activations]", float, double) {
  using T = TestType;
  nn::Sigmoid<T> layer;
  check_against_reference<T>(layer,
                             {0.11920292202211755, 0.37754066879814541, 0.56217650088579807, 0.81757447619364365,
                              0.95257412682243336, 0.22270013882530884, 0.67917869917539297, 0.017986209962091559},
                             {0.052496792701753253, -0.23500371220159449, 0.4922681654751967, 0.037286613017583216,
                              -0.033882494798184004, 0.25965718048874553, 0.21789499376181404,
                              -0.035325412426582235});
  nn::Sigmoid<double> layer_d;
  check_gradients<T>(layer_d, layer, 0.0);
  const double s = 1 / (1 + std::exp(-0.5));
  check_finite_at_extremes<T>(layer, {1, 0, s, 1 - s}, {0, 0, s * (1 - s), s * (1 - s)});
  check_common<T>(nn::Sigmoid<T>(), "Sigmoid");

  // The vectorised form keeps full relative precision in both tails: it agrees with the scalar
  // detail::sigmoid (and 1 - sigmoid(x) = sigmoid(-x)) far out where 1 / (1 + exp(-x)) alone would not.
  Matrix<T> X(1, 6);
  X << T(-80), T(-30), T(-5), T(5), T(30), T(80);
  const Matrix<T> Y = layer.forward(X);
  for (Index j = 0; j < X.cols(); ++j) {
    CAPTURE(X(0, j));
    CHECK(Y(0, j) == Approx(detail::sigmoid(X(0, j))).epsilon(4 * std::numeric_limits<T>::epsilon()));
  }
  CHECK(Y(0, 0) == Approx(std::exp(-80.0)).epsilon(1e-5));
}

TEMPLATE_TEST_CASE("Tanh", "[nn][activations]", float, double) {
  using T = TestType;
  nn::Tanh<T> layer;
  check_against_reference<T>(layer,
                             {-0.9640275800758169, -0.46211715726000974, 0.24491866240370913, 0.9051482536448664,
                              0.99505475368673046, -0.84828363995751288, 0.6351489523872873, -0.99932929973906703},
                             {0.035325412426582214, -0.7864477329659274, 1.880029697612756, 0.045176659730912151,
                              -0.0073995278740801246, 0.42062229927064898, 0.59658580828133145,
                              -0.0026819013660518329});
  nn::Tanh<double> layer_d;
  check_gradients<T>(layer_d, layer, 0.0);
  const double t = std::tanh(0.5);
  check_finite_at_extremes<T>(layer, {1, -1, t, -t}, {0, 0, 1 - t * t, 1 - t * t});
  check_common<T>(nn::Tanh<T>(), "Tanh");
}

TEMPLATE_TEST_CASE("Softmax", "[nn][activations]", float, double) {
  using T = TestType;
  nn::Softmax<T> layer;
  check_against_reference<T>(
      layer,
      {0.020796559442159905, 0.093203713152563927, 0.19731226229234078, 0.68868746511293533, 0.89239872047384261,
       0.012729384088930535, 0.094058133137942937, 0.0008137622992840229},
      {0.00033293300538930423, -0.13831346751743784, 0.29912717384484983, -0.16114663933280127,
       -0.17154191903109761, 0.02619420014183552, 0.14652134774566833, -0.0011736288564060996});
  nn::Softmax<double> layer_d;
  check_gradients<T>(layer_d, layer, 0.0);
  check_common<T>(nn::Softmax<T>(), "Softmax");

  // Row-wise: each row of the output is a probability vector, whatever the other rows hold.
  Rng rng(8);
  const Matrix<T> X = random_normal<T>(6, 5, rng, 0.0, 4.0);
  const Matrix<T> Y = layer.forward(X);
  CHECK((Y.rowwise().sum().array() - T(1)).abs().maxCoeff() <= 10 * std::numeric_limits<T>::epsilon());
  CHECK((Y.array() > T(0)).all());
  // Shifting a row by a constant does not change it (the max-shift makes this exact to rounding).
  Matrix<T> shifted = X;
  shifted.row(2).array() += T(500);
  CHECK(max_abs_diff(layer.forward(shifted), Y) <= 10 * value_tol<T>);

  // ±1000 in one row: exp never overflows; the exact values are those of logits [1000, -1000, 999].
  const Matrix<T> big = mat<T>(2, 3, {1000, -1000, 999, -1000, -1000, -1000});
  const Matrix<T> P = layer.forward(big);
  REQUIRE(P.allFinite());
  const double p0 = 1 / (1 + std::exp(-1.0));
  CHECK(max_abs_diff(P, mat<double>(2, 3, {p0, 0, 1 - p0, 1.0 / 3, 1.0 / 3, 1.0 / 3})) <= 10 * value_tol<T>);
  // dY = e_0 in row 0: dX = y ⊙ (e_0 − y_0) = [y0(1 − y0), 0, −y0 y2].
  const Matrix<T> dX = layer.backward(mat<T>(2, 3, {1, 0, 0, 0, 0, 0}));
  REQUIRE(dX.allFinite());
  CHECK(max_abs_diff(dX, mat<double>(2, 3, {p0 * (1 - p0), 0, -p0 * (1 - p0), 0, 0, 0})) <= 10 * value_tol<T>);
}

TEMPLATE_TEST_CASE("GELU", "[nn][activations]", float, double) {
  using T = TestType;
  nn::GELU<T> layer;
  check_against_reference<T>(
      layer,
      {-0.045500263896358417, -0.15426876936299344, 0.14967658142073093, 1.399789198096713, 2.9959503059051098,
       -0.13206221708356905, 0.58002948571734891, -0.00012668496733247991},
      {-0.042615900539098459, -0.13250487534383712, 1.3907467097672721, 0.28186729805749489, -0.75895923540313792,
       -0.18399237460413323, 0.99922572173923518, 0.001007299322452843});
  nn::GELU<double> layer_d;
  check_gradients<T>(layer_d, layer, 0.0);
  // x Φ(x) and Φ(x) + x φ(x) at ±0.5 (Φ(0.5) = 0.691462461274013, φ(0.5) = 0.3520653267642995).
  const double Phi = 0.5 * std::erfc(-0.5 / std::sqrt(2.0));
  const double phi = std::exp(-0.125) / std::sqrt(2 * 3.14159265358979323846);
  check_finite_at_extremes<T>(layer, {1000, 0, 0.5 * Phi, -0.5 * (1 - Phi)},
                              {1, 0, Phi + 0.5 * phi, (1 - Phi) - 0.5 * phi});
  check_common<T>(nn::GELU<T>(), "GELU");
}

TEST_CASE("GELU keeps relative precision in the negative tail", "[nn][activations]") {
  // Through erfc, not 1 + erf (which cancels to 0 here); values from scipy's ndtr
  // (tests/reference/losses_activations.py).
  nn::GELU<double> layer;
  const Matrix<double> Y = layer.forward(mat<double>(1, 2, {-10, -30}));
  CHECK(Y(0, 0) == Approx(-7.6198530241604699e-23).epsilon(1e-13));
  CHECK(Y(0, 1) == Approx(-1.4720141781443724e-196).epsilon(1e-13));
  const Matrix<double> dX = layer.backward(Matrix<double>::Ones(1, 2));
  CHECK(dX(0, 0) == Approx(-7.6184000964648144e-22).epsilon(1e-12));
  CHECK(dX(0, 1) == Approx(-4.4160316907084947e-195).epsilon(1e-12));
}

TEMPLATE_TEST_CASE("activations run through the Layer interface", "[nn][activations]", float, double) {
  using T = TestType;
  std::vector<std::unique_ptr<nn::Layer<T>>> layers;
  layers.push_back(std::make_unique<nn::ReLU<T>>());
  layers.push_back(std::make_unique<nn::LeakyReLU<T>>());
  layers.push_back(std::make_unique<nn::Sigmoid<T>>());
  layers.push_back(std::make_unique<nn::Tanh<T>>());
  layers.push_back(std::make_unique<nn::Softmax<T>>());
  layers.push_back(std::make_unique<nn::GELU<T>>());
  Rng rng(2);
  const Matrix<T> X = random_normal<T>(3, 4, rng);
  for (auto& layer : layers) {
    CAPTURE(layer->name());
    const Matrix<T>& Y = layer->forward(X);
    CHECK(Y.rows() == 3);
    CHECK(Y.cols() == 4);
    CHECK(layer->backward(Matrix<T>::Ones(3, 4)).allFinite());
    // An empty batch is harmless: nothing in, nothing out.
    CHECK(layer->forward(Matrix<T>(0, 4)).size() == 0);
    CHECK(layer->backward(Matrix<T>(0, 4)).size() == 0);
  }
}
