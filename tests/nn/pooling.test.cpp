#include <catch2/catch.hpp>

#include <eigenml/nn/pooling.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "support/gradcheck.hpp"

using namespace eigenml;

namespace {

Matrix<double> pattern(Index rows, Index cols, double a, double b) {
  Matrix<double> m(rows, cols);
  for (Index i = 0; i < rows * cols; ++i) m.data()[i] = std::sin(a * static_cast<double>(i) + b);
  return m;
}

Matrix<double> from_list(Index rows, Index cols, const std::vector<double>& v) {
  REQUIRE(static_cast<Index>(v.size()) == rows * cols);
  Matrix<double> m(rows, cols);
  for (Index i = 0; i < rows * cols; ++i) m.data()[i] = v[static_cast<std::size_t>(i)];
  return m;
}

/// Pooling straight from the definition over an explicitly padded image: padding holds -inf for
/// the max and 0 for the average (divided by k*k).
template <class T>
Matrix<T> naive_pool(const Matrix<T>& X, const nn::Pool2DOptions& o, bool max) {
  const int p = o.padding, Hp = o.height + 2 * p, Wp = o.width + 2 * p;
  const int Ho = (Hp - o.kernel) / o.stride + 1, Wo = (Wp - o.kernel) / o.stride + 1;
  const double pad = max ? -std::numeric_limits<double>::infinity() : 0.0;
  Matrix<T> Y(X.rows(), o.channels * Ho * Wo);
  for (Index n = 0; n < X.rows(); ++n)
    for (int c = 0; c < o.channels; ++c) {
      std::vector<double> img(static_cast<std::size_t>(Hp * Wp), pad);
      for (int h = 0; h < o.height; ++h)
        for (int w = 0; w < o.width; ++w)
          img[static_cast<std::size_t>((h + p) * Wp + w + p)] =
              static_cast<double>(X(n, (c * o.height + h) * o.width + w));
      for (int y = 0; y < Ho; ++y)
        for (int x = 0; x < Wo; ++x) {
          double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
          for (int i = 0; i < o.kernel; ++i)
            for (int j = 0; j < o.kernel; ++j) {
              const double v = img[static_cast<std::size_t>((y * o.stride + i) * Wp + x * o.stride + j)];
              acc = max ? std::max(acc, v) : acc + v;
            }
          Y(n, (c * Ho + y) * Wo + x) = static_cast<T>(max ? acc : acc / (o.kernel * o.kernel));
        }
    }
  return Y;
}

// Overlapping (k3 s2), padded, non-square, gaps between windows (k2 s3), kernel 1, even kernels.
const std::vector<nn::Pool2DOptions> configs = {
    {.channels = 2, .height = 7, .width = 5, .kernel = 3, .stride = 2, .padding = 1},
    {.channels = 3, .height = 6, .width = 8, .kernel = 2, .stride = 2},
    {.channels = 1, .height = 5, .width = 4, .kernel = 3, .stride = 1, .padding = 1},
    {.channels = 2, .height = 9, .width = 7, .kernel = 2, .stride = 3},
    {.channels = 2, .height = 4, .width = 7, .kernel = 1, .stride = 1},
    {.channels = 2, .height = 6, .width = 5, .kernel = 4, .stride = 2, .padding = 2},
};

}  // namespace

TEMPLATE_TEST_CASE("MaxPool2D and AvgPool2D forward equal the definition", "[nn][pooling]", float, double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  Rng rng(17);
  for (const auto& o : configs) {
    INFO("C" << o.channels << " " << o.height << "x" << o.width << " k" << o.kernel << " s" << o.stride << " p"
             << o.padding);
    const Matrix<T> X = random_uniform<T>(3, o.channels * o.height * o.width, rng, -2.0, 1.0);
    nn::MaxPool2D<T> maxpool(o);
    nn::AvgPool2D<T> avgpool(o);
    const Matrix<T> Ym = maxpool.forward(X), Ya = avgpool.forward(X);
    const Matrix<T> Rm = naive_pool<T>(X, o, true), Ra = naive_pool<T>(X, o, false);
    REQUIRE(Ym.cols() == Rm.cols());
    REQUIRE(Ya.cols() == Ra.cols());
    CHECK(Ym == Rm);  // a max selects a value: exact
    CHECK(test::rel_error(Ya.template cast<double>(), Ra.template cast<double>()) < tol);
  }
}

TEST_CASE("MaxPool2D and AvgPool2D pass a finite-difference gradient check", "[nn][pooling][gradcheck]") {
  Rng rng(23);
  for (const auto& o : configs) {
    INFO("C" << o.channels << " " << o.height << "x" << o.width << " k" << o.kernel << " s" << o.stride << " p"
             << o.padding);
    // Random values have no ties, and +-1e-6 does not change which value wins a max.
    const Matrix<double> X = random_uniform<double>(2, o.channels * o.height * o.width, rng);
    nn::MaxPool2D<double> maxpool(o);
    nn::AvgPool2D<double> avgpool(o);
    const auto rm = test::check_layer(maxpool, X);
    const auto ra = test::check_layer(avgpool, X);
    CHECK(rm.input < 1e-7);
    CHECK(ra.input < 1e-7);
    CHECK(rm.params.empty());
    CHECK(ra.params.empty());
  }
}

TEST_CASE("MaxPool2D and AvgPool2D match PyTorch (kernel 3, stride 2, padding 1)", "[nn][pooling][reference]") {
  // tests/reference/conv_pool_reference.py: N=2, C=2, H=5, W=6, overlapping windows.
  const nn::Pool2DOptions o{.channels = 2, .height = 5, .width = 6, .kernel = 3, .stride = 2, .padding = 1};
  const Matrix<double> X = pattern(2, 60, 0.53, 0.2);
  const Matrix<double> dY = pattern(2, 18, 0.41, 0.7);

  nn::MaxPool2D<double> maxpool(o);
  const Matrix<double> Ym = maxpool.forward(X);
  const Matrix<double> dXm = maxpool.backward(dY);
  const Matrix<double> Ym_ref = from_list(2, 18, {
      0.66686963500369789, 0.97607092198252421, 0.97607092198252421, 0.72208723940371899, 0.97275095639501374,
      0.9565055666515091, 0.7730462647856603, 0.98767467877618031, 0.93129912764730682, 0.81944617539091857,
      0.99677349464439291, 0.90060026237085922, 0.86101332327924451, 0.9999937428570207, 0.90060026237085922,
      0.86101332327924451, 0.9999937428570207, 0.86459002033587062, 0.89750256219381219, 0.9973164316901787,
      0.82348077541186249, 0.92869869333488642, 0.98875735084424954, 0.77751497332884056, 0.95441773451544443,
      0.97436697832260222, 0.7269637018302475, 0.97450800521385716, 0.97450800521385716, 0.67212509190689695,
      0.98885102112435808, 0.98885102112435808, 0.67212509190689695, 0.98885102112435808, 0.98885102112435808,
      0.61332255954076942});
  const Matrix<double> dXm_ref = from_list(2, 60, {
      0, 0.64421768723769102, 0, 1.8944088296556307, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.9361770523163061,
      0.71846479306912625, 0.38166099205233167, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0.018406306933053809,
      -0.41542260677124548, -0.7435791389442743, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0.94848121670442564,
      -0.99616460883584068, -0.72255261318497888, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0.078682502802075338,
      0.57822988976276046, 0.98312306581161879, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.97456639770443498,
      0.80446720729259469, 0.50102085645788619, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.11452611295327886,
      -0.29095229056648914, -0.64820292120270773, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0.8980085023246196,
      -0.99896167189381679, -0.93432859865439788, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1.091651821294275, 0,
      0.9737499798821061, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3.0391426334744618, 0, 0.61150657889894211, 0, 0, 0, 0, 0,
      0, 0, 0});
  CHECK((Ym - Ym_ref).cwiseAbs().maxCoeff() < 1e-15);
  CHECK((dXm - dXm_ref).cwiseAbs().maxCoeff() < 1e-14);

  nn::AvgPool2D<double> avgpool(o);
  const Matrix<double> Ya = avgpool.forward(X);
  const Matrix<double> dXa = avgpool.backward(dY);
  const Matrix<double> Ya_ref = from_list(2, 18, {
      -0.0072897031238455812, -0.0033435983840907437, 0.0080832988793430472, -0.1104346783707591,
      -0.29415924241119223, -0.20496886250938701, 0.0068005673766081687, 0.0020407123435255661,
      -0.0089911441250846835, 0.0064239232559699161, 0.0011560028987791886, -0.0095308120630170651,
      0.14342279218649695, 0.30213335719409889, 0.15876637231154087, -0.005788677012109068, 0.00018220198049164379,
      0.010234017879364425, -0.0053219684098377113, 0.0010740929322874404, 0.010627925772402192,
      -0.17113797955579793, -0.29899956544965139, -0.10672685028211482, 0.004563966442106277,
      -0.0023984176645865077, -0.011100638858845638, 0.0040243518592594967, -0.0032646998303743503,
      -0.01133430471765672, 0.19256129403214578, 0.28487308075802653, 0.050763524910011647, -0.0031714620438956726,
      0.0045264557324154282, 0.011559145818799965});
  const Matrix<double> dXa_ref = from_list(2, 60, {
      0.071579743026410111, 0.17110181921308207, 0.099522076186671957, 0.21048986996173674, 0.11096779377506477,
      0.11096779377506477, 0.17559941550599967, 0.35495091314479676, 0.1793514976387971, 0.33272606830856538,
      0.15337457066976828, 0.15337457066976828, 0.10401967247958957, 0.18384909393171472, 0.079829421452125141,
      0.12223619834682867, 0.04240677689470352, 0.04240677689470352, 0.10197452726480581, 0.1356458812979037,
      0.033671354033097865, -0.0065417733993402005, -0.040213127432438066, -0.040213127432438066,
      -0.0020451452147837567, -0.048203212633811034, -0.046158067419027275, -0.12877797174616887,
      -0.082619904327141586, -0.082619904327141586, -0.10538680185604729, -0.21607175839336293,
      -0.11068495653731564, -0.20832111150711452, -0.097636154969798883, -0.097636154969798883,
      -0.17379014688383465, -0.31230721260193639, -0.13851706571810174, -0.2188006894053216,
      -0.080283623687219877, -0.080283623687219877, -0.068403345027787374, -0.096235454208573476,
      -0.027832109180786102, -0.010479577898207096, 0.017352531282579006, 0.017352531282579006,
      -0.0087425003113417096, 0.055505265217853893, 0.064247765529195602, 0.19083619301306559, 0.12658842748387,
      0.12658842748387, 0.059660844716445664, 0.15174071942642736, 0.092079874709981704, 0.20131577091127267,
      0.10923589620129098, 0.10923589620129098, 0.10828515530049278, 0.1976704005552255, 0.089385245254732737,
      0.14505422930560899, 0.055668984050876245, 0.055668984050876245, 0.1210102789619682, 0.17806749193153548,
      0.057057212969567277, 0.040703650220142676, -0.016353562749424615, -0.016353562749424615,
      0.012725123661475428, -0.019602908623690032, -0.03232803228516546, -0.10435057908546633,
      -0.07202254680030086, -0.07202254680030086, -0.087053598819037847, -0.23037737242573852,
      -0.14332377360670065, -0.31916060914637906, -0.17583683553967838, -0.17583683553967838,
      -0.099778722480513282, -0.21077446380204848, -0.1109957413215352, -0.21481003006091273,
      -0.10381428873937754, -0.10381428873937754, -0.079424750496022031, -0.12129464681047498,
      -0.041869896314452953, -0.03924465333674499, 0.00262524297770796, 0.00262524297770796,
      -0.032739524181950995, 0.008397322866968579, 0.041136847048919581, 0.14933128925804248, 0.1081944422091229,
      0.1081944422091229, 0.046685226314071036, 0.12969196967744356, 0.083006743363372534, 0.18857594259478749,
      0.10556919923141495, 0.10556919923141495, 0.15731790467710927, 0.33768251483049577, 0.18036461015338648,
      0.35387898481801727, 0.17351437466463074, 0.17351437466463074, 0.11063267836303824, 0.20799054515305218,
      0.097357866790013944, 0.16530304222322972, 0.067945175433215793, 0.067945175433215793});
  CHECK((Ya - Ya_ref).cwiseAbs().maxCoeff() < 1e-15);
  CHECK((dXa - dXa_ref).cwiseAbs().maxCoeff() < 1e-15);
}

TEMPLATE_TEST_CASE("MaxPool2D: ties go to the first maximum, padding never wins, NaN propagates", "[nn][pooling]",
                   float, double) {
  using T = TestType;
  // 1 x 3 x 3 of equal values, 2x2 windows with stride 1: each window's gradient goes to its
  // top-left position (the first in row-major window order), as in PyTorch.
  nn::MaxPool2D<T> pool({.channels = 1, .height = 3, .width = 3, .kernel = 2, .stride = 1});
  const Matrix<T> X = Matrix<T>::Constant(1, 9, T(2));
  CHECK(pool.forward(X) == Matrix<T>::Constant(1, 4, T(2)));
  Matrix<T> expected(1, 9);
  expected << 1, 1, 0, 1, 1, 0, 0, 0, 0;
  CHECK(pool.backward(Matrix<T>::Ones(1, 4)) == expected);

  // All-negative input with padding: the max is a real value, never a padded zero; the average
  // counts the padding as zeros (divisor k*k = 9).
  const nn::Pool2DOptions o{.channels = 1, .height = 2, .width = 2, .kernel = 3, .stride = 1, .padding = 1};
  nn::MaxPool2D<T> maxpool(o);
  nn::AvgPool2D<T> avgpool(o);
  const Matrix<T> neg = Matrix<T>::Constant(1, 4, T(-4));
  CHECK(maxpool.forward(neg) == Matrix<T>::Constant(1, 4, T(-4)));
  CHECK(avgpool.forward(neg).isApprox(Matrix<T>::Constant(1, 4, T(-16) / T(9))));

  Matrix<T> nan_in = Matrix<T>::Zero(1, 4);
  nan_in(0, 3) = std::numeric_limits<T>::quiet_NaN();
  nn::MaxPool2D<T> p2({.channels = 1, .height = 2, .width = 2, .kernel = 1, .stride = 1});
  const Matrix<T> Y = p2.forward(nan_in);
  CHECK(Y(0, 0) == T(0));
  CHECK(std::isnan(Y(0, 3)));
  CHECK(std::isnan(maxpool.forward(nan_in)(0, 0)));  // every 3x3 window sees the NaN

  // PyTorch's rule (take a value if larger or NaN) makes the last NaN of a window win.
  nn::MaxPool2D<T> p3({.channels = 1, .height = 2, .width = 2, .kernel = 2, .stride = 1});
  Matrix<T> two_nans(1, 4);
  two_nans << std::numeric_limits<T>::quiet_NaN(), T(1), std::numeric_limits<T>::quiet_NaN(), T(0);
  CHECK(std::isnan(p3.forward(two_nans)(0, 0)));
  Matrix<T> routed(1, 4);
  routed << 0, 0, 1, 0;
  CHECK(p3.backward(Matrix<T>::Ones(1, 1)) == routed);
}

TEMPLATE_TEST_CASE("MaxPool2D routes each window's gradient to its first maximum, in every geometry", "[nn][pooling]",
                   float, double) {
  using T = TestType;
  // Values from {0, 1, 2}: most windows hold ties (as after a ReLU). The reference walks each
  // window in row-major order from -inf, taking strictly larger values (PyTorch's rule).
  std::vector<nn::Pool2DOptions> geometries = configs;
  geometries.push_back({.channels = 2, .height = 8, .width = 9, .kernel = 3, .stride = 2});  // k3 s2, no padding
  // Rows of 20 and 18 outputs: whole 16-output blocks, remainders, and blocks that would run
  // past the end of the batch.
  geometries.push_back({.channels = 3, .height = 6, .width = 40, .kernel = 2, .stride = 2});
  geometries.push_back({.channels = 2, .height = 9, .width = 37, .kernel = 3, .stride = 2, .padding = 1});
  Rng rng(31);
  for (const auto& o : geometries) {
    INFO("C" << o.channels << " " << o.height << "x" << o.width << " k" << o.kernel << " s" << o.stride << " p"
             << o.padding);
    Matrix<T> X(2, o.channels * o.height * o.width);
    for (Index i = 0; i < X.size(); ++i) X.data()[i] = static_cast<T>(rng.below(3));
    nn::MaxPool2D<T> pool(o);
    const Matrix<T> Y = pool.forward(X);
    const Index Ho = pool.out_height(), Wo = pool.out_width();
    Matrix<T> dY(X.rows(), Y.cols()), expected = Matrix<T>::Zero(X.rows(), X.cols());
    for (Index i = 0; i < dY.size(); ++i) dY.data()[i] = static_cast<T>(i % 7 + 1);
    for (Index n = 0; n < X.rows(); ++n)
      for (Index c = 0; c < o.channels; ++c)
        for (Index y = 0; y < Ho; ++y)
          for (Index x = 0; x < Wo; ++x) {
            T best = -std::numeric_limits<T>::infinity();
            Index at = -1;
            for (Index i = 0; i < o.kernel; ++i)
              for (Index j = 0; j < o.kernel; ++j) {
                const Index h = y * o.stride - o.padding + i, w = x * o.stride - o.padding + j;
                if (h < 0 || h >= o.height || w < 0 || w >= o.width) continue;
                const Index q = (c * o.height + h) * o.width + w;
                if (at < 0 || X(n, q) > best) {
                  best = X(n, q);
                  at = q;
                }
              }
            const Index out = (c * Ho + y) * Wo + x;
            REQUIRE(Y(n, out) == best);
            expected(n, at) += dY(n, out);
          }
    CHECK(pool.backward(dY) == expected);
  }
}

TEST_CASE("Pooling in float agrees with double in backward", "[nn][pooling]") {
  Rng rng(29);
  for (const auto& o : configs) {
    const Matrix<double> X = random_uniform<double>(3, o.channels * o.height * o.width, rng);
    nn::MaxPool2D<double> md(o);
    nn::MaxPool2D<float> mf(o);
    nn::AvgPool2D<double> ad(o);
    nn::AvgPool2D<float> af(o);
    const Matrix<double> dY = random_uniform<double>(3, md.output_size(md.input_size()), rng);
    md.forward(X);
    mf.forward(X.cast<float>());
    ad.forward(X);
    af.forward(X.cast<float>());
    CHECK(test::rel_error(mf.backward(dY.cast<float>()).cast<double>(), md.backward(dY)) < 1e-6);
    CHECK(test::rel_error(af.backward(dY.cast<float>()).cast<double>(), ad.backward(dY)) < 1e-6);
  }
}

TEST_CASE("Pooling layers describe themselves", "[nn][pooling]") {
  const nn::Pool2DOptions o{.channels = 3, .height = 7, .width = 5, .kernel = 3, .stride = 2, .padding = 1};
  nn::MaxPool2D<float> maxpool(o);
  nn::AvgPool2D<double> avgpool(o);
  CHECK(maxpool.name() == "MaxPool2D");
  CHECK(avgpool.name() == "AvgPool2D");
  CHECK(maxpool.options().kernel == 3);
  CHECK(avgpool.options().padding == 1);
  CHECK(maxpool.input_size() == 105);
  CHECK(maxpool.out_height() == 4);  // floor((7 + 2 - 3)/2) + 1
  CHECK(maxpool.out_width() == 3);   // floor((5 + 2 - 3)/2) + 1
  CHECK(maxpool.output_size(105) == 36);
  CHECK(avgpool.output_size(105) == 36);
  CHECK(maxpool.parameters().empty());
  // floor, not ceil: 6x6 with k2 s4 gives 2x2 (PyTorch's ceil_mode=False).
  nn::MaxPool2D<float> floor_pool({.channels = 1, .height = 6, .width = 6, .kernel = 2, .stride = 4});
  CHECK(floor_pool.out_height() == 2);

  auto copy = maxpool.clone();
  Rng rng(2);
  const Matrix<float> X = random_uniform<float>(2, 105, rng);
  CHECK(copy->forward(X) == maxpool.forward(X));
  CHECK(copy->name() == "MaxPool2D");
}

TEST_CASE("Pooling layers reject invalid options naming the field", "[nn][pooling][errors]") {
  using O = nn::Pool2DOptions;
  for (int which = 0; which < 2; ++which) {
    auto make = [which](const O& o) {
      if (which == 0)
        nn::MaxPool2D<double> p(o);
      else
        nn::AvgPool2D<double> p(o);
    };
    CHECK_THROWS_WITH(make({.channels = 0, .height = 4, .width = 4, .kernel = 2, .stride = 2}),
                      Catch::Contains("channels"));
    CHECK_THROWS_WITH(make({.channels = 1, .height = 0, .width = 4, .kernel = 2, .stride = 2}),
                      Catch::Contains("height"));
    CHECK_THROWS_WITH(make({.channels = 1, .height = 4, .width = 0, .kernel = 2, .stride = 2}),
                      Catch::Contains("width"));
    CHECK_THROWS_WITH(make({.channels = 1, .height = 4, .width = 4, .kernel = 0, .stride = 2}),
                      Catch::Contains("kernel"));
    CHECK_THROWS_WITH(make({.channels = 1, .height = 4, .width = 4, .kernel = 2}), Catch::Contains("stride"));
    CHECK_THROWS_WITH(make({.channels = 1, .height = 4, .width = 4, .kernel = 3, .stride = 1, .padding = 2}),
                      Catch::Contains("padding") && Catch::Contains("0..1"));
    CHECK_THROWS_WITH(make({.channels = 1, .height = 4, .width = 4, .kernel = 3, .stride = 1, .padding = -1}),
                      Catch::Contains("padding"));
    CHECK_THROWS_WITH(make({.channels = 1, .height = 4, .width = 2, .kernel = 3, .stride = 1}),
                      Catch::Contains("kernel") && Catch::Contains("4x2"));
    CHECK_NOTHROW(make({.channels = 1, .height = 4, .width = 4, .kernel = 3, .stride = 1, .padding = 1}));
  }
  // MaxPool2D keeps its argmax as 32-bit offsets within a sample.
  CHECK_THROWS_WITH((nn::MaxPool2D<float>({.channels = 65536, .height = 256, .width = 256, .kernel = 2, .stride = 2})),
                    Catch::Contains("4294967296") && Catch::Contains("2^31"));
}

TEST_CASE("Pooling layers reject inputs of the wrong shape naming both sizes", "[nn][pooling][errors]") {
  const nn::Pool2DOptions o{.channels = 2, .height = 4, .width = 4, .kernel = 2, .stride = 2};
  nn::MaxPool2D<double> maxpool(o);
  nn::AvgPool2D<double> avgpool(o);
  CHECK_THROWS_WITH(maxpool.backward(Matrix<double>::Zero(1, 8)), Catch::Contains("before forward"));
  CHECK_THROWS_WITH(avgpool.backward(Matrix<double>::Zero(1, 8)), Catch::Contains("before forward"));
  CHECK_THROWS_WITH(maxpool.forward(Matrix<double>::Zero(3, 31)), Catch::Contains("3x31") && Catch::Contains("32"));
  CHECK_THROWS_WITH(avgpool.forward(Matrix<double>::Zero(3, 33)), Catch::Contains("3x33") && Catch::Contains("32"));
  maxpool.forward(Matrix<double>::Zero(3, 32));
  avgpool.forward(Matrix<double>::Zero(3, 32));
  CHECK_THROWS_WITH(maxpool.backward(Matrix<double>::Zero(2, 8)), Catch::Contains("2 rows"));
  CHECK_THROWS_WITH(avgpool.backward(Matrix<double>::Zero(3, 9)), Catch::Contains("3x9") && Catch::Contains("8"));
  CHECK_THROWS_WITH(maxpool.backward(Matrix<double>::Zero(3, 9)), Catch::Contains("3x9") && Catch::Contains("8"));
}
