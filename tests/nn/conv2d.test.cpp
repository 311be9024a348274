#include <catch2/catch.hpp>

#include <eigenml/nn/conv2d.hpp>

#include <cmath>
#include <vector>

#include "support/gradcheck.hpp"

using namespace eigenml;

namespace {

/// value[idx] = scale * sin(a*idx + b) over the flat row-major index (as the PyTorch script).
Matrix<double> pattern(Index rows, Index cols, double a, double b, double scale = 1.0) {
  Matrix<double> m(rows, cols);
  for (Index i = 0; i < rows * cols; ++i) m.data()[i] = scale * std::sin(a * static_cast<double>(i) + b);
  return m;
}

Matrix<double> from_list(Index rows, Index cols, const std::vector<double>& v) {
  REQUIRE(static_cast<Index>(v.size()) == rows * cols);
  Matrix<double> m(rows, cols);
  for (Index i = 0; i < rows * cols; ++i) m.data()[i] = v[static_cast<std::size_t>(i)];
  return m;
}

/// Direct convolution straight from the definition, one output value at a time (independent of
/// im2col and of any matrix product).
template <class T>
Matrix<T> naive_conv(const Matrix<T>& X, const Matrix<T>& Wt, const Matrix<T>& b, const nn::Conv2DOptions& o) {
  const int Ho = (o.height + 2 * o.padding - o.kernel) / o.stride + 1;
  const int Wo = (o.width + 2 * o.padding - o.kernel) / o.stride + 1;
  Matrix<T> Y(X.rows(), o.out_channels * Ho * Wo);
  for (Index n = 0; n < X.rows(); ++n)
    for (int oc = 0; oc < o.out_channels; ++oc)
      for (int y = 0; y < Ho; ++y)
        for (int x = 0; x < Wo; ++x) {
          double acc = static_cast<double>(b(oc, 0));
          for (int c = 0; c < o.in_channels; ++c)
            for (int i = 0; i < o.kernel; ++i)
              for (int j = 0; j < o.kernel; ++j) {
                const int ih = y * o.stride - o.padding + i, iw = x * o.stride - o.padding + j;
                if (ih < 0 || ih >= o.height || iw < 0 || iw >= o.width) continue;  // zero padding
                acc += static_cast<double>(Wt(oc, (c * o.kernel + i) * o.kernel + j)) *
                       static_cast<double>(X(n, (c * o.height + ih) * o.width + iw));
              }
          Y(n, (oc * Ho + y) * Wo + x) = static_cast<T>(acc);
        }
  return Y;
}

// Non-square inputs, strides 1..3, padding 0..2, kernels 1..5, several channels. "Same" shapes
// (stride 1, 2*padding = kernel - 1) take im2col's shifted-block path: 1x1, 3x3 pad 1, 5x5 pad 2,
// and a 1-pixel-wide image whose side taps lie wholly in the padding. The 16x17 one has enough
// output pixels (272) for its weight gradient (2 x 272 x 9 per sample) to take detail::Gemm's
// dot-product path.
const std::vector<nn::Conv2DOptions> configs = {
    {.in_channels = 3, .height = 7, .width = 5, .out_channels = 4, .kernel = 3, .stride = 2, .padding = 1},
    {.in_channels = 2, .height = 6, .width = 5, .out_channels = 3, .kernel = 3, .stride = 1, .padding = 0},
    {.in_channels = 3, .height = 4, .width = 6, .out_channels = 2, .kernel = 1},
    {.in_channels = 1, .height = 8, .width = 6, .out_channels = 2, .kernel = 3, .stride = 1, .padding = 1},
    {.in_channels = 2, .height = 5, .width = 7, .out_channels = 3, .kernel = 2, .stride = 3, .padding = 2},
    {.in_channels = 2, .height = 6, .width = 7, .out_channels = 3, .kernel = 5, .stride = 1, .padding = 2},
    {.in_channels = 2, .height = 4, .width = 1, .out_channels = 2, .kernel = 3, .stride = 1, .padding = 1},
    {.in_channels = 1, .height = 16, .width = 17, .out_channels = 2, .kernel = 3, .stride = 1, .padding = 1},
    {.in_channels = 2, .height = 1, .width = 3, .out_channels = 2, .kernel = 3, .stride = 1, .padding = 1},
};

}  // namespace

TEMPLATE_TEST_CASE("Conv2D forward equals a direct convolution", "[nn][conv2d]", float, double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  Rng rng(7);
  for (const auto& o : configs) {
    nn::Conv2D<T> conv(o, 3);
    const Matrix<T> X = random_uniform<T>(3, o.in_channels * o.height * o.width, rng);
    const Matrix<T> Y = conv.forward(X);
    const Matrix<T> ref = naive_conv<T>(X, conv.weight().value, conv.bias().value, o);
    REQUIRE(Y.rows() == ref.rows());
    REQUIRE(Y.cols() == ref.cols());
    CHECK(test::rel_error(Y.template cast<double>(), ref.template cast<double>()) < tol);
  }
}

TEST_CASE("Conv2D backward passes a finite-difference gradient check", "[nn][conv2d][gradcheck]") {
  Rng rng(11);
  for (const auto& o : configs) {
    nn::Conv2D<double> conv(o, 5);
    const Matrix<double> X = random_uniform<double>(2, o.in_channels * o.height * o.width, rng);
    const auto report = test::check_layer(conv, X);
    INFO("in " << o.in_channels << "x" << o.height << "x" << o.width << " out " << o.out_channels << " k"
               << o.kernel << " s" << o.stride << " p" << o.padding);
    CHECK(report.input < 1e-7);
    REQUIRE(report.params.size() == 2);
    CHECK(report.params[0] < 1e-7);
    CHECK(report.params[1] < 1e-7);
  }
}

TEST_CASE("Conv2D matches PyTorch's nn.Conv2d (stride 2, padding 1)", "[nn][conv2d][reference]") {
  // tests/reference/conv_pool_reference.py: N=2, C=2, H=4, W=5, OC=3, k=3, s=2, p=1.
  const nn::Conv2DOptions o{.in_channels = 2, .height = 4, .width = 5, .out_channels = 3, .kernel = 3,
                            .stride = 2, .padding = 1};
  nn::Conv2D<double> conv(o);
  conv.weight().value = pattern(3, 18, 0.23, 0.5, 0.5);
  conv.bias().value << 0.1, -0.2, 0.3;
  const Matrix<double> X = pattern(2, 40, 0.37, 0.1);
  const Matrix<double> Y = conv.forward(X);
  REQUIRE(Y.rows() == 2);
  REQUIRE(Y.cols() == 18);  // 3 channels x 2 x 3
  const Matrix<double> dY = pattern(2, 18, 0.71, -0.3);
  const Matrix<double> dX = conv.backward(dY);

  const Matrix<double> Y_ref = from_list(2, 18, {
      0.70996689688688441, 2.0754447139550791, 1.5648357385115088, -0.5341480416489921, -1.9979836605617485,
      -1.4689035587161379, 0.5948858610998673, -0.4294093785253244, -1.2400918404199419, -1.098258455233456,
      -0.035922937002754118, 0.86725252156313037, -1.1710537011088724, -1.4269293002583381, -0.038121322274016489,
      1.9072166800974237, 2.2202416717598155, 0.71276642247489663, 0.80000646831525035, -0.30171501220914587,
      -1.0194003197518116, -0.65786539289382651, 0.50855723088173865, 1.2912329728751446, -1.6762530396593134,
      -1.7992157855151316, -0.39975727211780632, 1.3822616772288912, 1.5595230442036823, 0.063114163214928187,
      1.1991942148926824, 2.4341192194058445, 1.6357940933560111, -0.65617270712060094, -2.014619659759108,
      -1.1762602265173128});
  const Matrix<double> dX_ref = from_list(2, 40, {
      -0.031395285914814205, 0.38111099429036865, 0.46311280671655902, 1.0630280392497309, 0.7338094797084127,
      -0.24238566958394597, -0.45053347245595893, -0.26395799039759182, -0.37169214399575612, -0.15796568397725885,
      0.64987346058602213, 0.80437571551960441, 0.25186903374450609, -0.011193128616196757, -0.26785771471722181,
      0.74626898227476768, 1.2399651008346595, 0.64486623358387984, 0.78154807872533838, 0.23181495105244052,
      -0.63920192347836557, -1.2103463499682525, -0.72482722848644487, -1.0505917753237108, -0.460160750049597,
      0.25287735227477226, 0.31856636069414729, 0.099624019714483869, 0.00039229171295662724, -0.10177523530599009,
      0.026890489156821504, 0.46951799552995244, 0.50094619365613657, 1.0952402451039183, 0.73290650122592238,
      -0.45976213159765655, -0.38403280394501849, 0.029873519199513233, 0.47267453789438152, 0.50507200772281913,
      0.12768913838239473, 0.62419273084836513, 0.57702625389124129, 1.1771098437002125, 0.74750028641107935,
      -0.26294180460504724, -0.45005740734333216, -0.24422891853444442, -0.30838752780622469, -0.10748599705678064,
      0.55672518512105584, 0.58404566182367534, 0.096898025188053558, -0.27532180025296937, -0.40975764879827947,
      0.75497474857138469, 1.1601304606496077, 0.54654428017737411, 0.55325841463762204, 0.07398194268300691,
      -0.70275753532024943, -1.2259968053852119, -0.67923391277092438, -0.89218097121082174, -0.32745267333041289,
      0.21715771803076472, 0.23287586508220492, 0.03968418655740702, -0.10313320031600415, -0.15696776970109871,
      0.18257866548100507, 0.69926089207695474, 0.60437407187045067, 1.1877808685602866, 0.73408984440638958,
      -0.32619121104576015, -0.12684197456651325, 0.18610001797084968, 0.70342402777511115, 0.60845352854624135});
  const Matrix<double> dW_ref = from_list(3, 18, {
      0.29657091694402588, 0.22087256258873578, -0.44136777115249737, 0.40806675003774801, -0.85826079348599205,
      -0.96022525532214165, -1.00446421668269, -0.86796437718091479, 0.39969643943888267, -0.32935688669730345,
      -1.1530391075578459, -1.2319406063076934, -0.65498994250821752, -1.4089918676720119, -0.2948277308692091,
      -0.56320880423916153, 0.64538858656377474, 0.97002941097105733, -1.0489684294643395, -1.4762483349753703,
      -0.67812670671285191, -1.9302971947883059, -1.8127054992076574, -1.1480981441889038, 2.0416362007682776,
      2.6149214354101193, 1.6294940611145139, -1.211237460829272, -0.95227963016925776, -0.29614542383268661,
      0.5648779470342804, 1.1827167608421281, 0.7241281835731932, 2.1739797074720535, 2.1677459729786128,
      1.3681378408762923, 0.6204696789808628, 1.0697093222543144, 1.0342070804862389, 1.2794586702694692,
      2.4429839219776559, 1.9639281092439655, -0.78039720109176958, -1.4180806972640909, -1.8242504707013887,
      1.3882580811332854, 1.9855513691361037, 1.4908400815670573, 0.16115619630322198, 0.37502434995855793,
      -0.33822749018169906, -1.337351394209179, -2.540499061803934, -2.1660977631380272});
  const Matrix<double> db_ref = from_list(3, 1, {4.849360739400451, -2.071671456499943, -3.0382415734981567});

  CHECK((Y - Y_ref).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((dX - dX_ref).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((conv.weight().grad - dW_ref).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((conv.bias().grad - db_ref).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("Conv2D in float agrees with double in forward and backward", "[nn][conv2d]") {
  Rng rng(21);
  for (const auto& o : configs) {
    nn::Conv2D<double> cd(o, 9);
    nn::Conv2D<float> cf(o, 9);
    CHECK(cf.weight().value.cast<double>().isApprox(cd.weight().value, 1e-6));  // same seed, same draws
    const Matrix<double> X = random_uniform<double>(4, o.in_channels * o.height * o.width, rng);
    const Matrix<double> Yd = cd.forward(X);
    const Matrix<float> Yf = cf.forward(X.cast<float>());
    CHECK(test::rel_error(Yf.cast<double>(), Yd) < 1e-5);
    const Matrix<double> dY = random_uniform<double>(Yd.rows(), Yd.cols(), rng);
    const Matrix<double> dXd = cd.backward(dY);
    const Matrix<float> dXf = cf.backward(dY.cast<float>());
    CHECK(test::rel_error(dXf.cast<double>(), dXd) < 1e-5);
    CHECK(test::rel_error(cf.weight().grad.cast<double>(), cd.weight().grad) < 1e-5);
    CHECK(test::rel_error(cf.bias().grad.cast<double>(), cd.bias().grad) < 1e-5);
  }
}

TEST_CASE("Conv2D gradients are sums over the batch and are overwritten", "[nn][conv2d]") {
  const nn::Conv2DOptions o = configs[0];
  nn::Conv2D<double> conv(o, 1);
  Rng rng(3);
  const Matrix<double> X = random_uniform<double>(3, 105, rng);
  const Matrix<double> dY = random_uniform<double>(3, conv.output_size(105), rng);
  conv.forward(X);
  conv.backward(dY);
  const Matrix<double> dW_all = conv.weight().grad, db_all = conv.bias().grad;
  Matrix<double> dW_sum = Matrix<double>::Zero(dW_all.rows(), dW_all.cols());
  Matrix<double> db_sum = Matrix<double>::Zero(db_all.rows(), 1);
  for (Index n = 0; n < 3; ++n) {
    conv.forward(X.row(n));
    conv.backward(dY.row(n));
    dW_sum += conv.weight().grad;
    db_sum += conv.bias().grad;
  }
  CHECK(test::rel_error(dW_sum, dW_all) < 1e-13);
  CHECK(test::rel_error(db_sum, db_all) < 1e-13);
}

TEMPLATE_TEST_CASE("Conv2D on large images: a batch equals its one-sample passes", "[nn][conv2d]", float, double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  // 2 x 36 x 36 images: im2col of one sample takes ~0.4 MB (double), larger than a core's L1/L2
  // share, and the GEMM blocks it; backward recomputes it per sample.
  const nn::Conv2DOptions o{.in_channels = 2, .height = 36, .width = 36, .out_channels = 4, .kernel = 3,
                            .padding = 1};
  nn::Conv2D<T> conv(o, 8);
  Rng rng(13);
  const Index N = 11;
  const Matrix<T> X = random_uniform<T>(N, conv.input_size(), rng);
  const Matrix<T> Y = conv.forward(X);
  CHECK(test::rel_error(Y.template cast<double>(),
                        naive_conv<T>(X, conv.weight().value, conv.bias().value, o).template cast<double>()) < tol);

  // Backward over the batch equals the sum of one-sample backwards.
  const Matrix<T> dY = random_uniform<T>(N, conv.output_size(conv.input_size()), rng);
  const Matrix<T> dX = conv.backward(dY);
  const Matrix<T> dW = conv.weight().grad, db = conv.bias().grad;
  Matrix<T> dW_sum = Matrix<T>::Zero(dW.rows(), dW.cols()), db_sum = Matrix<T>::Zero(db.rows(), 1);
  for (Index n = 0; n < N; ++n) {
    const Matrix<T> Yn = conv.forward(X.row(n));
    CHECK(test::rel_error(Yn.template cast<double>(), Matrix<double>(Y.row(n).template cast<double>())) < tol);
    const Matrix<T> dXn = conv.backward(dY.row(n));
    CHECK(test::rel_error(dXn.template cast<double>(), Matrix<double>(dX.row(n).template cast<double>())) < tol);
    dW_sum += conv.weight().grad;
    db_sum += conv.bias().grad;
  }
  CHECK(test::rel_error(dW_sum.template cast<double>(), dW.template cast<double>()) < tol);
  CHECK(test::rel_error(db_sum.template cast<double>(), db.template cast<double>()) < tol);
}

TEST_CASE("Conv2D describes itself and is initialised from a seed", "[nn][conv2d]") {
  const nn::Conv2DOptions o{.in_channels = 3, .height = 7, .width = 5, .out_channels = 4, .kernel = 3,
                            .stride = 2, .padding = 1};
  nn::Conv2D<float> conv(o, 42);
  CHECK(conv.name() == "Conv2D");
  CHECK(conv.options().in_channels == 3);
  CHECK(conv.options().padding == 1);
  CHECK(conv.input_size() == 105);
  CHECK(conv.out_height() == 4);  // (7 + 2 - 3)/2 + 1
  CHECK(conv.out_width() == 3);   // (5 + 2 - 3)/2 + 1
  CHECK(conv.output_size(105) == 4 * 4 * 3);
  auto params = conv.parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0]->value.rows() == 4);
  CHECK(params[0]->value.cols() == 27);
  CHECK(params[1]->value.rows() == 4);
  CHECK(params[1]->value.cols() == 1);

  // PyTorch's default: uniform in +-1/sqrt(fan_in), fan_in = 3*3*3.
  const float bound = 1.0f / std::sqrt(27.0f);
  CHECK(params[0]->value.cwiseAbs().maxCoeff() <= bound);
  CHECK(params[1]->value.cwiseAbs().maxCoeff() <= bound);
  CHECK(params[0]->value.cwiseAbs().maxCoeff() > 0.5f * bound);
  nn::Conv2D<float> same(o, 42), other(o, 43);
  CHECK(same.weight().value == conv.weight().value);
  CHECK(same.bias().value == conv.bias().value);
  CHECK(other.weight().value != conv.weight().value);

  // clone is a deep copy computing the same function.
  auto copy = conv.clone();
  Rng rng(1);
  const Matrix<float> X = random_uniform<float>(2, 105, rng);
  const Matrix<float> Y = conv.forward(X);
  CHECK(copy->forward(X) == Y);
  conv.weight().value.setZero();
  CHECK(copy->forward(X) == Y);
}

TEST_CASE("Conv2D reuses its buffers for a batch size it has seen", "[nn][conv2d]") {
  nn::Conv2D<double> conv(configs[0], 1);
  Rng rng(5);
  const Matrix<double> X = random_uniform<double>(4, 105, rng);
  const double* y = conv.forward(X).data();
  const Matrix<double> dY = random_uniform<double>(4, conv.output_size(105), rng);
  const double* dx = conv.backward(dY).data();
  CHECK(conv.forward(X).data() == y);
  CHECK(conv.backward(dY).data() == dx);
}

TEST_CASE("Conv2D rejects invalid options naming the field", "[nn][conv2d][errors]") {
  using O = nn::Conv2DOptions;
  using C = nn::Conv2D<double>;
  CHECK_THROWS_WITH((C(O{.in_channels = 0, .height = 4, .width = 4, .out_channels = 2, .kernel = 3})),
                    Catch::Contains("in_channels"));
  CHECK_THROWS_WITH((C(O{.in_channels = 1, .height = 0, .width = 4, .out_channels = 2, .kernel = 3})),
                    Catch::Contains("height"));
  CHECK_THROWS_WITH((C(O{.in_channels = 1, .height = 4, .width = -1, .out_channels = 2, .kernel = 3})),
                    Catch::Contains("width"));
  CHECK_THROWS_WITH((C(O{.in_channels = 1, .height = 4, .width = 4, .out_channels = 0, .kernel = 3})),
                    Catch::Contains("out_channels"));
  CHECK_THROWS_WITH((C(O{.in_channels = 1, .height = 4, .width = 4, .out_channels = 2})), Catch::Contains("kernel"));
  CHECK_THROWS_WITH((C(O{.in_channels = 1, .height = 4, .width = 4, .out_channels = 2, .kernel = 3, .stride = 0})),
                    Catch::Contains("stride"));
  CHECK_THROWS_WITH(
      (C(O{.in_channels = 1, .height = 4, .width = 4, .out_channels = 2, .kernel = 3, .stride = 1, .padding = -1})),
      Catch::Contains("padding"));
  // The kernel must fit in the padded image (output size >= 1).
  CHECK_THROWS_WITH((C(O{.in_channels = 1, .height = 4, .width = 2, .out_channels = 2, .kernel = 3})),
                    Catch::Contains("kernel") && Catch::Contains("4x2"));
  CHECK_NOTHROW(C(O{.in_channels = 1, .height = 4, .width = 2, .out_channels = 2, .kernel = 3, .padding = 1}));
  CHECK_THROWS_AS((C(O{.in_channels = 1, .height = 4, .width = 4, .out_channels = 2})), std::invalid_argument);
}

TEST_CASE("Conv2D rejects inputs of the wrong shape naming both sizes", "[nn][conv2d][errors]") {
  nn::Conv2D<double> conv(configs[0], 1);  // 3 x 7 x 5 = 105 values per sample
  CHECK_THROWS_WITH(conv.backward(Matrix<double>::Zero(2, 48)), Catch::Contains("before forward"));
  CHECK_THROWS_WITH(conv.forward(Matrix<double>::Zero(2, 104)), Catch::Contains("2x104") && Catch::Contains("105"));
  conv.forward(Matrix<double>::Zero(2, 105));
  CHECK_THROWS_WITH(conv.backward(Matrix<double>::Zero(3, 48)), Catch::Contains("3 rows") && Catch::Contains("2"));
  CHECK_THROWS_WITH(conv.backward(Matrix<double>::Zero(2, 47)), Catch::Contains("2x47") && Catch::Contains("48"));
}
