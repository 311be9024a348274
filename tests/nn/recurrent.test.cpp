#include <catch2/catch.hpp>

#include <eigenml/nn/gru.hpp>
#include <eigenml/nn/lstm.hpp>
#include <eigenml/nn/rnn.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "support/gradcheck.hpp"

using namespace eigenml;

namespace {

// Sizes and closed-form weights/inputs of tests/reference/recurrent_pytorch.py.
constexpr int kN = 2, kT = 5, kF = 3, kH = 4;

template <class Layer>
void fill_reference_weights(Layer& layer) {
  auto params = layer.parameters();
  for (std::size_t k = 0; k < params.size(); ++k)
    for (Index i = 0; i < params[k]->value.rows(); ++i)
      for (Index j = 0; j < params[k]->value.cols(); ++j)
        params[k]->value(i, j) = static_cast<typename Layer::Scalar>(
            0.6 * std::sin(0.37 * double(i + 1) + 0.91 * double(j + 1) + 1.3 * double(k)));
}

template <class T>
Matrix<T> reference_input() {
  Matrix<T> X(kN, kT * kF);
  for (int n = 0; n < kN; ++n)
    for (int t = 0; t < kT; ++t)
      for (int f = 0; f < kF; ++f) X(n, t * kF + f) = static_cast<T>(1.5 * std::cos(1.1 * n + 0.7 * t + 0.45 * f));
  return X;
}

// Output of tests/reference/recurrent_pytorch.py (torch 1.13, float64): every h_t, N x T*H.
const std::vector<double>& reference_states(const std::string& name) {
  static const std::vector<double> rnn = {
      // clang-format off
    0.54128064678582577, 0.21975396829112806, -0.18717291628646809, -0.52017092014922262, 0.47080744036657241, 0.21873397040782724, -0.096247001075845828, -0.38195856747283258, -0.58483995167184533, -0.51816559938972628, -0.38012454421678965, -0.17072736141379258, -0.9467178228865204, -0.79719812169982096, -0.23073000647993133, 0.57352324739876004, -0.99269187821915328, -0.95445187687871891, -0.60473577345205543, 0.51771143126880315,
    -0.49953830524799242, -0.38037617706789711, -0.1955508892783972, 0.031096933882356612, -0.92390228431917287, -0.75771645804743815, -0.22841013527740525, 0.50595464124485912, -0.98999554785380117, -0.93587641054127224, -0.48574761757688134, 0.61354720919874051, -0.98931857770272025, -0.94256947661754142, -0.58457312765998903, 0.47183592665183455, -0.9512927543287768, -0.87208908346138325, -0.57614200092657575, 0.11674346183462811,
      // clang-format on
  };
  static const std::vector<double> lstm = {
      // clang-format off
    -0.2677482412882109, -0.15808302535494498, -0.0045932496402795982, 0.099924430688084542, -0.081710916445901144, -0.040553646400592704, 0.0027501928348034107, 0.026585892303849997, 0.041478943028673505, 0.053154635532039946, 0.051936766753358836, 0.019563541722289562, 0.07270963267439802, 0.070285743307496068, 0.058452073177162021, 0.028635099543365343, 0.088776297390698811, 0.089369491089823463, 0.071083986354066472, 0.040790817913082887,
    0.089331097842041754, 0.07302149253589775, 0.049017521156088865, 0.014732772709081764, 0.11356289945429175, 0.089789742175443277, 0.0649941824907002, 0.028205799871720266, 0.11669411884503345, 0.093902930325786338, 0.065135983281719753, 0.035462510909524465, 0.1230232483880338, 0.12931462865572538, 0.10161487270388922, 0.062043538984747022, 0.14241225268656368, 0.1802817059620696, 0.20011493638833056, 0.15346083557047413,
      // clang-format on
  };
  static const std::vector<double> gru = {
      // clang-format off
    -0.5300122244466442, -0.41585400585975574, -0.13686588419751139, 0.23118760609675812, -0.4147466746309878, -0.33659312203616276, -0.15675639688434889, 0.064562690336673334, -0.13179206555133893, -0.15746183372397382, -0.078660778863766601, 0.024881648273092388, 0.15134928795309066, 0.0031829737862663077, 0.0047592939365840303, 0.04527459515212115, 0.44667458468739152, 0.18307402283775631, 0.097861977506745745, 0.089039935917774371,
    0.098738734199942058, 0.075798365951476959, 0.047146219939510625, 0.010944364523963173, 0.35752665647775272, 0.23672425595905822, 0.13931277538616982, 0.04206779741331787, 0.59310941476484436, 0.38563336466539189, 0.22496425852280622, 0.086648969807998188, 0.79800702400926204, 0.57408807241600213, 0.34790699541393877, 0.15992461045026685, 0.83461487020309855, 0.76621111779747597, 0.56892433458087566, 0.32888827116267505,
      // clang-format on
  };
  if (name == "RNN") return rnn;
  if (name == "LSTM") return lstm;
  return gru;
}

template <class Layer>
constexpr int gates() {
  using T = typename Layer::Scalar;
  if constexpr (std::is_same_v<Layer, nn::LSTM<T>>) return 4;
  if constexpr (std::is_same_v<Layer, nn::GRU<T>>) return 3;
  return 1;
}

template <class T>
double tol_forward() {
  return std::is_same_v<T, double> ? 1e-12 : 2e-6;
}

}  // namespace

TEMPLATE_PRODUCT_TEST_CASE("recurrent layers match PyTorch's forward values", "[nn][recurrent]",
                           (nn::RNN, nn::LSTM, nn::GRU), (float, double)) {
  using Layer = TestType;
  using T = typename Layer::Scalar;
  const Matrix<T> X = reference_input<T>();
  Layer seq({.input_size = kF, .hidden_size = kH, .seq_len = kT, .return_sequences = true});
  Layer last({.input_size = kF, .hidden_size = kH, .seq_len = kT});
  fill_reference_weights(seq);
  fill_reference_weights(last);
  const auto& expected = reference_states(seq.name());
  REQUIRE(expected.size() == std::size_t(kN * kT * kH));

  const Matrix<T>& Ys = seq.forward(X);
  REQUIRE(Ys.rows() == kN);
  REQUIRE(Ys.cols() == kT * kH);
  const Matrix<T> Yl = last.forward(X);
  REQUIRE(Yl.rows() == kN);
  REQUIRE(Yl.cols() == kH);
  double worst_seq = 0, worst_last = 0;
  for (int n = 0; n < kN; ++n)
    for (int c = 0; c < kT * kH; ++c) {
      const double e = expected[std::size_t(n * kT * kH + c)];
      worst_seq = std::max(worst_seq, std::abs(double(Ys(n, c)) - e));
      if (c >= (kT - 1) * kH) worst_last = std::max(worst_last, std::abs(double(Yl(n, c - (kT - 1) * kH)) - e));
    }
  INFO(seq.name() << ": max |eigenml - torch| = " << worst_seq << " (sequences), " << worst_last << " (last)");
  CHECK(worst_seq < tol_forward<T>());
  CHECK(worst_last < tol_forward<T>());
}

TEMPLATE_TEST_CASE("recurrent layers pass the finite-difference gradient check", "[nn][recurrent]", nn::RNN<double>,
                   nn::LSTM<double>, nn::GRU<double>) {
  using Layer = TestType;
  Rng rng(21);
  // 6 steps, batch 3; weights larger than the default init so the gates leave their linear range.
  for (bool return_sequences : {false, true}) {
    Layer layer({.input_size = 3, .hidden_size = 4, .seq_len = 6, .return_sequences = return_sequences}, 5);
    for (auto* p : layer.parameters()) p->value *= 2.5;
    const Matrix<double> X = random_normal<double>(3, 6 * 3, rng);
    const auto report = test::check_layer(layer, X);
    INFO(layer.name() << " return_sequences=" << return_sequences << " dX " << report.input << " dW_ih "
                      << report.params[0] << " dW_hh " << report.params[1] << " db_ih " << report.params[2]
                      << " db_hh " << report.params[3]);
    REQUIRE(report.params.size() == 4);
    CHECK(report.worst() < 1e-7);
  }
  // Edge sizes: one step, one feature, one sample (no recurrence at all).
  Layer single({.input_size = 1, .hidden_size = 3, .seq_len = 1, .return_sequences = true}, 6);
  CHECK(test::check_layer(single, random_normal<double>(1, 1, rng)).worst() < 1e-7);
}

TEMPLATE_PRODUCT_TEST_CASE("recurrent gradients in float agree with double", "[nn][recurrent]",
                           (nn::RNN, nn::LSTM, nn::GRU), (float)) {
  using Layer = TestType;
  using T = typename Layer::Scalar;
  using LayerD = std::conditional_t<gates<Layer>() == 4, nn::LSTM<double>,
                                    std::conditional_t<gates<Layer>() == 3, nn::GRU<double>, nn::RNN<double>>>;
  Rng rng(8);
  const Matrix<double> Xd = random_normal<double>(4, 7 * 2, rng);
  const Matrix<T> Xf = Xd.cast<T>();
  for (bool return_sequences : {false, true}) {
    const nn::RecurrentOptions o{.input_size = 2, .hidden_size = 5, .seq_len = 7, .return_sequences = return_sequences};
    Layer lf(o, 3);
    LayerD ld(o, 3);
    // Same seed: the float weights are the double ones rounded; use the rounded ones in both.
    for (std::size_t k = 0; k < 4; ++k) ld.parameters()[k]->value = lf.parameters()[k]->value.template cast<double>();
    const Matrix<double> Yd = ld.forward(Xd);
    const Matrix<T> Yf = lf.forward(Xf);
    CHECK(test::rel_error(Yf.template cast<double>(), Yd) < 1e-5);
    const Matrix<double> R = random_uniform<double>(Yd.rows(), Yd.cols(), rng);
    const Matrix<double> dXd = ld.backward(R);
    const Matrix<T> dXf = lf.backward(R.cast<T>());
    CHECK(test::rel_error(dXf.template cast<double>(), dXd) < 1e-4);
    for (std::size_t k = 0; k < 4; ++k)
      CHECK(test::rel_error(lf.parameters()[k]->grad.template cast<double>(), ld.parameters()[k]->grad) < 1e-4);
  }
}

TEMPLATE_PRODUCT_TEST_CASE("recurrent layers: shapes, names, options, init", "[nn][recurrent]",
                           (nn::RNN, nn::LSTM, nn::GRU), (float, double)) {
  using Layer = TestType;
  using T = typename Layer::Scalar;
  constexpr int G = gates<Layer>();
  Layer layer({.input_size = 3, .hidden_size = 16, .seq_len = 4});
  CHECK(layer.name() == (G == 1 ? "RNN" : G == 4 ? "LSTM" : "GRU"));
  CHECK(layer.options().input_size == 3);
  CHECK(layer.options().hidden_size == 16);
  CHECK(layer.options().seq_len == 4);
  CHECK_FALSE(layer.options().return_sequences);
  CHECK(layer.input_size() == 12);
  CHECK(layer.output_size(12) == 16);
  Layer seq({.input_size = 3, .hidden_size = 16, .seq_len = 4, .return_sequences = true});
  CHECK(seq.output_size(12) == 64);

  auto params = layer.parameters();
  REQUIRE(params.size() == 4);
  const Layer& const_layer = layer;  // named accessors, in parameters() order
  CHECK(&const_layer.W_ih() == params[0]);
  CHECK(&layer.W_hh() == params[1]);
  CHECK(&const_layer.b_ih() == params[2]);
  CHECK(&layer.b_hh() == params[3]);
  const Index rows[] = {G * 16, G * 16, G * 16, G * 16}, cols[] = {3, 16, 1, 1};
  const double bound = 1.0 / std::sqrt(16.0);  // PyTorch: uniform(-1/sqrt(H), 1/sqrt(H))
  for (std::size_t k = 0; k < 4; ++k) {
    CHECK(params[k]->value.rows() == rows[k]);
    CHECK(params[k]->value.cols() == cols[k]);
    CHECK(params[k]->grad.rows() == rows[k]);
    CHECK(params[k]->grad.cols() == cols[k]);
    CHECK(double(params[k]->value.cwiseAbs().maxCoeff()) <= bound);
  }
  // Uniform(-b, b) has mean square b^2/3: the draw spans the range rather than a corner of it.
  CHECK(double(params[1]->value.array().square().mean()) == Approx(bound * bound / 3).epsilon(0.15));

  // The seed decides the weights, bit for bit.
  Layer a({.input_size = 3, .hidden_size = 16, .seq_len = 4}, 7), b({.input_size = 3, .hidden_size = 16, .seq_len = 4}, 7);
  Layer c({.input_size = 3, .hidden_size = 16, .seq_len = 4}, 8);
  CHECK(a.parameters()[0]->value == b.parameters()[0]->value);
  CHECK(a.parameters()[1]->value != c.parameters()[1]->value);

  // clone() keeps the weights and options and is independent of the original.
  auto copy = a.clone();
  CHECK(copy->name() == a.name());
  CHECK(copy->parameters()[1]->value == a.parameters()[1]->value);
  copy->parameters()[1]->value.setZero();
  CHECK(a.parameters()[1]->value == b.parameters()[1]->value);
  Rng rng(1);
  const Matrix<T> X = random_normal<T>(2, 12, rng);
  CHECK(a.forward(X) == b.forward(X));
}

TEMPLATE_PRODUCT_TEST_CASE("recurrent layers reuse their buffers across batch sizes", "[nn][recurrent]",
                           (nn::RNN, nn::LSTM, nn::GRU), (double)) {
  using Layer = TestType;
  Rng rng(4);
  Layer layer({.input_size = 2, .hidden_size = 3, .seq_len = 5, .return_sequences = true}, 11);
  Layer fresh({.input_size = 2, .hidden_size = 3, .seq_len = 5, .return_sequences = true}, 11);
  const Matrix<double> big = random_normal<double>(6, 10, rng), small = random_normal<double>(2, 10, rng);
  const Matrix<double> R = random_uniform<double>(2, 15, rng), Rbig = random_uniform<double>(6, 15, rng);
  layer.forward(big);
  layer.backward(Rbig);
  const Matrix<double> Y = layer.forward(small);
  const Matrix<double> dX = layer.backward(R);
  CHECK(Y == fresh.forward(small));
  CHECK(dX == fresh.backward(R));
  for (std::size_t k = 0; k < 4; ++k) CHECK(layer.parameters()[k]->grad == fresh.parameters()[k]->grad);
  // Each sample's states depend on that sample only: row 0 of a batch equals the sample alone.
  const Matrix<double> one = small.topRows(1);
  CHECK((fresh.forward(one) - Y.topRows(1)).cwiseAbs().maxCoeff() < 1e-15);
}

TEMPLATE_PRODUCT_TEST_CASE("recurrent layers reject bad options and bad input", "[nn][recurrent]",
                           (nn::RNN, nn::LSTM, nn::GRU), (float, double)) {
  using Layer = TestType;
  using T = typename Layer::Scalar;
  CHECK_THROWS_WITH((Layer({.input_size = 0, .hidden_size = 4, .seq_len = 5})),
                    Catch::Contains("input_size") && Catch::Contains("got 0"));
  CHECK_THROWS_WITH((Layer({.input_size = 3, .hidden_size = -2, .seq_len = 5})),
                    Catch::Contains("hidden_size") && Catch::Contains("got -2"));
  CHECK_THROWS_WITH((Layer({.input_size = 3, .hidden_size = 4, .seq_len = 0})), Catch::Contains("seq_len"));
  CHECK_THROWS_AS((Layer({.input_size = 3, .hidden_size = 4})), std::invalid_argument);  // seq_len is required

  Layer layer({.input_size = 3, .hidden_size = 4, .seq_len = 5});
  // backward before any forward
  CHECK_THROWS_WITH(layer.backward(Matrix<T>::Zero(2, 4)), Catch::Contains("before forward"));
  // wrong width: names the given shape and the expected width
  CHECK_THROWS_WITH(layer.forward(Matrix<T>::Zero(2, 14)),
                    Catch::Contains("2x14") && Catch::Contains("expected 15 columns") &&
                        Catch::Contains(layer.name()));
  CHECK_THROWS_WITH(layer.forward(Matrix<T>::Zero(0, 15)), Catch::Contains("empty"));
  layer.forward(Matrix<T>::Zero(2, 15));
  CHECK_THROWS_WITH(layer.backward(Matrix<T>::Zero(2, 20)), Catch::Contains("2x20") && Catch::Contains("2x4"));
  CHECK_THROWS_WITH(layer.backward(Matrix<T>::Zero(3, 4)), Catch::Contains("3x4") && Catch::Contains("2x4"));
}

TEMPLATE_PRODUCT_TEST_CASE("recurrent layers stay finite on huge inputs", "[nn][recurrent]",
                           (nn::RNN, nn::LSTM, nn::GRU), (float, double)) {
  using Layer = TestType;
  using T = typename Layer::Scalar;
  Layer layer({.input_size = 2, .hidden_size = 3, .seq_len = 4, .return_sequences = true}, 2);
  Matrix<T> X(2, 8);
  X << 1e4, -1e4, 3e4, 5e3, -2e4, 1e4, 7e3, -9e3,  //
      -1e30, 1e30, 1e30, -1e30, 1e30, 1e30, -1e30, -1e30;
  const Matrix<T>& Y = layer.forward(X);
  CHECK(Y.allFinite());
  CHECK(Y.cwiseAbs().maxCoeff() <= T(1));  // every state is a convex mix of tanh values (or o*tanh)
  const Matrix<T>& dX = layer.backward(Matrix<T>::Ones(2, 12));
  CHECK(dX.allFinite());
  for (auto* p : layer.parameters()) CHECK(p->grad.allFinite());
}
