// Whole-model files: save / load round trips with bit-identical predictions for every model kind
// and every layer type, float <-> double conversion, load_weights, and every way a model file can
// fail to describe the requested model.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

#include "eigenml/io.hpp"
#include "eigenml/io/model_io.hpp"
#include "eigenml/random.hpp"
#include "support/temp_path.hpp"

using eigenml::Labels;
using eigenml::LinearRegression;
using eigenml::LogisticRegression;
using eigenml::Matrix;
using eigenml::Vector;
using eigenml::io::FormatError;
using eigenml::io::Safetensors;
using eigenml::io::SafetensorsWriter;
namespace nn = eigenml::nn;
namespace io = eigenml::io;

#define CHECK_FORMAT_ERROR(expr, fragment)                         \
  do {                                                            \
    CHECK_THROWS_AS(expr, FormatError);                           \
    CHECK_THROWS_WITH(expr, Catch::Matchers::Contains(fragment)); \
  } while (false)

namespace {

template <class T>
Matrix<T> random_matrix(eigenml::Index rows, eigenml::Index cols, std::uint64_t seed) {
  eigenml::Rng rng(seed);
  Matrix<T> m(rows, cols);
  for (eigenml::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(rng.normal());
  return m;
}

/// A network with every layer type eigenml saves (and a nested Sequential), 36 inputs
/// (a 1 x 6 x 6 image), 3 outputs. Biases are randomised so none of them is trivially zero.
template <class T>
nn::Sequential<T> every_layer_net() {
  nn::Sequential<T> net;
  net.add(nn::Conv2D<T>({.in_channels = 1, .height = 6, .width = 6, .out_channels = 2, .kernel = 3, .stride = 1,
                         .padding = 1}, 1));                                                      // 0: 2x6x6
  net.add(nn::ReLU<T>());                                                                       // 1
  net.add(nn::MaxPool2D<T>({.channels = 2, .height = 6, .width = 6, .kernel = 2, .stride = 2}));  // 2: 2x3x3
  net.add(nn::AvgPool2D<T>({.channels = 2, .height = 3, .width = 3, .kernel = 2, .stride = 1, .padding = 1}));  // 2x4x4
  net.add(nn::Flatten<T>());                                                                    // 4: 32
  net.add(nn::Dense<T>(32, 12, 2));                                                             // 5
  net.add(nn::LeakyReLU<T>(T(0.2)));                                                            // 6
  net.add(nn::Dropout<T>(0.3, 3));                                                              // 7
  net.add(nn::RNN<T>({.input_size = 4, .hidden_size = 3, .seq_len = 3, .return_sequences = true}, 4));  // 8: 9
  net.add(nn::LSTM<T>({.input_size = 3, .hidden_size = 2, .seq_len = 3, .return_sequences = true}, 5));  // 9: 6
  net.add(nn::GRU<T>({.input_size = 2, .hidden_size = 4, .seq_len = 3}, 6));                    // 10: 4
  net.add(nn::Sigmoid<T>());                                                                    // 11
  net.add(nn::Dense<T>(4, 5, 7));                                                               // 12
  net.add(nn::Tanh<T>());                                                                       // 13
  net.add(nn::GELU<T>());                                                                       // 14
  nn::Sequential<T> inner;
  inner.add(nn::Dense<T>(5, 3, 8));
  inner.add(nn::Softmax<T>());
  net.add(inner);                                                                               // 15
  eigenml::Rng rng(9);
  for (auto* p : net.parameters())
    if (p->value.cols() == 1)
      for (eigenml::Index i = 0; i < p->value.size(); ++i) p->value.data()[i] = static_cast<T>(0.1 * rng.normal());
  return net;
}

std::filesystem::path temp_file(const std::string& name) { return eigenml::test::unique_temp_path(name); }

/// A Sequential file whose architecture and tensors are given as they should appear in the file.
template <class T = float>
std::vector<std::byte> sequential_file(const std::string& architecture,
                                       const std::vector<std::pair<std::string, std::vector<std::uint64_t>>>& tensors,
                                       const std::string& version = "1", const std::string& kind = "Sequential") {
  SafetensorsWriter w;
  w.add_metadata("format_version", version);
  w.add_metadata("model", kind);
  w.add_metadata("architecture", architecture);
  std::uint64_t seed = 1;
  for (const auto& [name, shape] : tensors) {
    std::uint64_t n = 1;
    for (auto d : shape) n *= d;
    w.add(name, random_matrix<T>(1, static_cast<eigenml::Index>(n), seed++), shape);
  }
  return w.bytes();
}

const std::string dense_4_3 = R"({"layers":[{"type":"Dense","in_features":4,"out_features":3}]})";

}  // namespace

TEMPLATE_TEST_CASE("Sequential with every layer type round-trips with bit-identical predictions", "[io][model]", float,
                   double) {
  using T = TestType;
  auto net = every_layer_net<T>();
  const Matrix<T> X = random_matrix<T>(5, 36, 42);
  const Matrix<T> expected = net.predict(X);

  const auto path = temp_file(std::string("eigenml_every_layer_") + (sizeof(T) == 4 ? "f" : "d") + ".safetensors");
  io::save(net, path);
  auto loaded = io::load<nn::Sequential<T>>(path);
  std::filesystem::remove(path);

  REQUIRE(loaded.size() == net.size());
  for (std::size_t i = 0; i < net.size(); ++i) CHECK(loaded.layer(i).name() == net.layer(i).name());
  CHECK(loaded.predict(X) == expected);

  // Parameters identical, in order.
  const auto a = net.parameters();
  const auto b = loaded.parameters();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i]->value == b[i]->value);

  // Options of configured layers survive.
  CHECK(dynamic_cast<const nn::Dropout<T>&>(loaded.layer(7)).p() == 0.3);
  CHECK(dynamic_cast<const nn::LeakyReLU<T>&>(loaded.layer(6)).slope() == T(0.2));
  CHECK(dynamic_cast<const nn::LSTM<T>&>(loaded.layer(9)).options().return_sequences);
  CHECK(dynamic_cast<const nn::AvgPool2D<T>&>(loaded.layer(3)).options().padding == 1);

  // In memory, the same.
  const auto bytes = io::to_bytes(net);
  CHECK(io::from_bytes<nn::Sequential<T>>(bytes).predict(X) == expected);
}

TEST_CASE("Sequential files use PyTorch state_dict names and record the architecture", "[io][model]") {
  const auto st = Safetensors::parse(io::to_bytes(every_layer_net<float>()));
  CHECK(st.info("0.weight").shape == std::vector<std::uint64_t>{2, 1, 3, 3});
  CHECK(st.info("0.bias").shape == std::vector<std::uint64_t>{2});
  CHECK(st.info("5.weight").shape == std::vector<std::uint64_t>{12, 32});
  CHECK(st.info("9.weight_ih_l0").shape == std::vector<std::uint64_t>{8, 3});
  CHECK(st.info("9.weight_hh_l0").shape == std::vector<std::uint64_t>{8, 2});
  CHECK(st.info("10.bias_hh_l0").shape == std::vector<std::uint64_t>{12});
  CHECK(st.info("15.0.weight").shape == std::vector<std::uint64_t>{3, 5});
  CHECK(st.info("0.weight").dtype == "F32");
  CHECK(st.tensors().size() == 2 + 2 + 4 * 3 + 2 + 2);
  CHECK(st.metadata().at("format_version") == "1");
  CHECK(st.metadata().at("model") == "Sequential");
  CHECK(st.metadata().at("dtype") == "F32");
  const auto info = io::inspect(st);
  CHECK(info.model == "Sequential");
  CHECK_THAT(info.architecture, Catch::Matchers::Contains(R"({"type":"Conv2D","in_channels":1,"height":6)"));
  CHECK_THAT(info.architecture, Catch::Matchers::Contains(R"("type":"LeakyReLU")"));
}

TEST_CASE("a model saved in one precision loads into the other", "[io][model]") {
  auto net_f = every_layer_net<float>();
  const auto bytes_f = io::to_bytes(net_f);
  auto net_d = io::from_bytes<nn::Sequential<double>>(bytes_f);
  const auto pf = net_f.parameters();
  const auto pd = net_d.parameters();
  REQUIRE(pf.size() == pd.size());
  for (std::size_t i = 0; i < pf.size(); ++i) CHECK(pd[i]->value == pf[i]->value.cast<double>());  // exact widening
  const Matrix<double> X = random_matrix<double>(4, 36, 7);
  const Matrix<float> yf = net_f.predict(X.cast<float>());
  CHECK((net_d.predict(X).cast<float>() - yf).cwiseAbs().maxCoeff() < 1e-5f);

  // double -> float rounds each weight to nearest.
  auto net_d2 = every_layer_net<double>();
  auto net_f2 = io::from_bytes<nn::Sequential<float>>(io::to_bytes(net_d2));
  const auto qd = net_d2.parameters();
  const auto qf = net_f2.parameters();
  for (std::size_t i = 0; i < qd.size(); ++i) CHECK(qf[i]->value == qd[i]->value.cast<float>());
}

TEMPLATE_TEST_CASE("linear models round-trip with bit-identical predictions", "[io][model]", float, double) {
  using T = TestType;
  const Matrix<T> X = random_matrix<T>(40, 3, 11);
  const auto path = temp_file("eigenml_linear.safetensors");

  SECTION("LinearRegression") {
    Vector<T> y = X * Vector<T>::LinSpaced(3, 1, 3);
    y.array() += T(0.5);
    LinearRegression<T> m({.fit_intercept = true, .alpha = 0.25});
    m.fit(X, y);
    io::save(m, path);
    auto r = io::load<LinearRegression<T>>(path);
    CHECK(r.predict(X) == m.predict(X));
    CHECK(r.coef() == m.coef());
    CHECK(r.intercept() == m.intercept());
    CHECK(r.options().alpha == 0.25);
    const auto st = Safetensors::read(path);
    CHECK(st.info("coef").shape == std::vector<std::uint64_t>{3});
    CHECK(st.info("intercept").shape.empty());
    CHECK(io::inspect(path).model == "LinearRegression");
  }
  SECTION("binary LogisticRegression without penalty") {
    Labels y(X.rows());
    for (eigenml::Index i = 0; i < X.rows(); ++i) y(i) = X(i, 0) + T(0.3) * X(i, 1) > T(0.2) * X(i, 2) * X(i, 2) ? 1 : 0;
    LogisticRegression<T> c({.fit_intercept = true, .C = 1.0});
    c.fit(X, y);
    io::save(c, path);
    auto r = io::load<LogisticRegression<T>>(path);
    CHECK(r.predict_proba(X) == c.predict_proba(X));
    CHECK(r.predict(X) == c.predict(X));
    CHECK(r.n_classes() == 2);
    CHECK(Safetensors::read(path).info("coef").shape == std::vector<std::uint64_t>{1, 3});

    LogisticRegression<T> inf({.C = std::numeric_limits<double>::infinity()});
    inf.set_params(c.coef(), c.intercept());
    auto r2 = io::from_bytes<LogisticRegression<T>>(io::to_bytes(inf));
    CHECK(std::isinf(r2.options().C));
  }
  SECTION("multinomial LogisticRegression") {
    Labels y(X.rows());
    for (eigenml::Index i = 0; i < X.rows(); ++i) {
      eigenml::Index k;
      X.row(i).maxCoeff(&k);
      y(i) = static_cast<int>(k);
    }
    LogisticRegression<T> c({.C = 10.0});
    c.fit(X, y);
    io::save(c, path);
    auto r = io::load<LogisticRegression<T>>(path);
    CHECK(r.predict_proba(X) == c.predict_proba(X));
    CHECK(r.n_classes() == 3);
    CHECK(r.options().C == 10.0);
    // Into the other precision.
    using U = std::conditional_t<std::is_same_v<T, float>, double, float>;
    auto u = io::load<LogisticRegression<U>>(path);
    CHECK(u.coef() == c.coef().template cast<U>());
  }
  std::filesystem::remove(path);
}

TEST_CASE("saving an unfitted linear model or an empty network is an error", "[io][model]") {
  CHECK_THROWS_AS(io::to_bytes(LinearRegression<double>()), std::invalid_argument);
  CHECK_THROWS_AS(io::to_bytes(LogisticRegression<double>()), std::invalid_argument);
  CHECK_THROWS_AS(io::to_bytes(nn::Sequential<double>()), std::invalid_argument);
}

TEST_CASE("load_weights fills a built network from a tensors-only file", "[io][model]") {
  auto src = every_layer_net<double>();
  // Strip the metadata: a file as PyTorch's writer would make it.
  const auto full = Safetensors::parse(io::to_bytes(src));
  SafetensorsWriter w;
  for (const auto& [name, info] : full.tensors()) {
    Matrix<double> v(1, static_cast<eigenml::Index>(info.numel()));
    full.copy_to<double>(name, std::span<double>(v.data(), static_cast<std::size_t>(v.size())));
    w.add(name, v, info.shape);
  }
  const auto weights = w.bytes();
  CHECK_FORMAT_ERROR(io::from_bytes<nn::Sequential<double>>(weights), "no 'format_version' in __metadata__");

  auto dst = every_layer_net<double>();
  for (auto* p : dst.parameters()) p->value.setZero();
  io::load_weights_from_bytes(dst, weights);
  const Matrix<double> X = random_matrix<double>(3, 36, 5);
  CHECK(dst.predict(X) == src.predict(X));

  // Through a file, into float.
  const auto path = temp_file("eigenml_weights_only.safetensors");
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(weights.data()), static_cast<std::streamsize>(weights.size()));
  }
  auto dst_f = every_layer_net<float>();
  io::load_weights(dst_f, path);
  CHECK(dst_f.parameters()[0]->value == src.parameters()[0]->value.cast<float>());
  std::filesystem::remove(path);

  SECTION("missing, unexpected and mis-shaped tensors are named") {
    nn::Sequential<double> small;
    small.add(nn::Dense<double>(4, 3));
    small.add(nn::ReLU<double>());
    small.add(nn::Dense<double>(3, 2));
    SafetensorsWriter a;
    a.add("0.weight", Matrix<double>::Zero(3, 4), {3, 4});
    a.add("0.bias", Matrix<double>::Zero(3, 1), {3});
    a.add("2.weight", Matrix<double>::Zero(2, 3), {2, 3});
    CHECK_FORMAT_ERROR(io::load_weights_from_bytes(small, a.bytes()), "missing tensors '2.bias' [2]");
    a.add("2.bias", Matrix<double>::Zero(2, 1), {2});
    a.add("num_batches_tracked", Matrix<double>::Zero(1, 1), {});
    CHECK_FORMAT_ERROR(io::load_weights_from_bytes(small, a.bytes()), "unexpected tensors 'num_batches_tracked'");
    SafetensorsWriter t;
    t.add("0.weight", Matrix<double>::Zero(4, 3), {4, 3});
    t.add("0.bias", Matrix<double>::Zero(3, 1), {3});
    t.add("2.weight", Matrix<double>::Zero(2, 3), {2, 3});
    t.add("2.bias", Matrix<double>::Zero(2, 1), {2});
    CHECK_FORMAT_ERROR(io::load_weights_from_bytes(small, t.bytes()),
                       "tensor '0.weight' has shape [4, 3] but the model expects [3, 4]");
  }
}

TEST_CASE("load_weights fills linear models", "[io][model]") {
  SafetensorsWriter w;
  Vector<double> coef(2);
  coef << 1.5, -2;
  w.add("coef", coef, {2});
  w.add("intercept", Matrix<double>::Constant(1, 1, 0.5), {});
  LinearRegression<float> m;
  io::load_weights_from_bytes(m, w.bytes());
  Matrix<float> X(1, 2);
  X << 2, 1;
  CHECK(m.predict(X)(0) == 1.5f);

  SafetensorsWriter bad;
  bad.add("coef", coef, {2});
  bad.add("intercept", Matrix<double>::Constant(1, 1, 0.5), {1});
  CHECK_FORMAT_ERROR(io::load_weights_from_bytes(m, bad.bytes()), "tensor 'intercept' has shape [1]");

  SafetensorsWriter lw;
  lw.add("coef", Matrix<double>::Ones(3, 2), {3, 2});
  lw.add("intercept", Matrix<double>::Zero(3, 1), {3});
  LogisticRegression<double> c;
  io::load_weights_from_bytes(c, lw.bytes());
  CHECK(c.n_classes() == 3);
  SafetensorsWriter two;
  two.add("coef", Matrix<double>::Ones(2, 2), {2, 2});
  two.add("intercept", Matrix<double>::Zero(2, 1), {2});
  CHECK_FORMAT_ERROR(io::load_weights_from_bytes(c, two.bytes()), "expected [1, d] (binary) or [K, d] with K >= 3");
}

TEST_CASE("model files that do not describe the requested model throw FormatError", "[io][model]") {
  using S = nn::Sequential<float>;
  const std::vector<std::pair<std::string, std::vector<std::uint64_t>>> dense_tensors = {{"0.weight", {3, 4}},
                                                                                         {"0.bias", {3}}};
  REQUIRE_NOTHROW(io::from_bytes<S>(sequential_file(dense_4_3, dense_tensors)));

  SECTION("metadata") {
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(dense_4_3, dense_tensors, "2")),
                       "unsupported format_version \"2\"");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(dense_4_3, dense_tensors, "1", "LinearRegression")),
                       "the file holds a LinearRegression, not a Sequential");
    CHECK_FORMAT_ERROR(io::from_bytes<LinearRegression<float>>(sequential_file(dense_4_3, dense_tensors)),
                       "the file holds a Sequential, not a LinearRegression");
    SafetensorsWriter w;
    w.add_metadata("format_version", "1");
    w.add_metadata("model", "Sequential");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(w.bytes()), "no 'architecture' in __metadata__");
    CHECK_FORMAT_ERROR(io::inspect(Safetensors::parse(SafetensorsWriter().bytes())), "no 'format_version'");
  }
  SECTION("architecture that is not valid or not an object") {
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file("{\"layers\": [", dense_tensors)),
                       "architecture is not valid JSON");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file("[1]", dense_tensors)), "architecture is not a JSON object");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(R"({"layers":[],"layers":[]})", dense_tensors)),
                       "duplicate key 'layers'");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(R"({"layers":[]})", {})), "'layers' is empty");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(R"({"layers":{}})", {})), "'layers' must be an array");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(R"({"layers":[3]})", {})), "not a JSON object");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(R"({"nets":[]})", {})), "unexpected field 'nets'");
  }
  SECTION("unknown layer kinds and bad fields") {
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(R"({"layers":[{"type":"BatchNorm"}]})", {})),
                       "layer 0: unknown layer type 'BatchNorm'");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(R"({"layers":[{"kind":"ReLU"}]})", {})),
                       "missing string field 'type'");
    CHECK_FORMAT_ERROR(
        io::from_bytes<S>(sequential_file(R"({"layers":[{"type":"Dense","in_features":4}]})", dense_tensors)),
        "layer 0 (Dense): missing field 'out_features'");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(
                           R"({"layers":[{"type":"Dense","in_features":"4","out_features":3}]})", dense_tensors)),
                       "field 'in_features' must be a non-negative integer");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(
                           R"({"layers":[{"type":"Dense","in_features":-4,"out_features":3}]})", dense_tensors)),
                       "field 'in_features' must be a non-negative integer");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(
                           R"({"layers":[{"type":"Dense","in_features":4,"out_features":3,"bias":true}]})",
                           dense_tensors)),
                       "unexpected field 'bias'");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(
                           R"({"layers":[{"type":"Dense","in_features":1099511627776,"out_features":3}]})",
                           dense_tensors)),
                       "is out of range");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(R"({"layers":[{"type":"Dropout","p":"0.5"}]})", {})),
                       "field 'p' must be a number");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(
                           R"({"layers":[{"type":"GRU","input_size":2,"hidden_size":2,"seq_len":2,"return_sequences":1}]})",
                           {})),
                       "field 'return_sequences' must be true or false");
  }
  SECTION("sizes whose products are absurd are rejected before anything is built") {
    CHECK_FORMAT_ERROR(
        io::from_bytes<S>(sequential_file(
            R"({"layers":[{"type":"Conv2D","in_channels":16777216,"height":16777216,"width":16777216,"out_channels":1,"kernel":1,"stride":1,"padding":0}]})",
            {{"0.weight", {1, 1, 1, 1}}, {"0.bias", {1}}})),
        "input width is");
    CHECK_FORMAT_ERROR(
        io::from_bytes<S>(sequential_file(
            R"({"layers":[{"type":"MaxPool2D","channels":65536,"height":65536,"width":2,"kernel":1,"stride":1,"padding":0}]})",
            {})),
        "more than the limit");
  }
  SECTION("options a layer rejects") {
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(R"({"layers":[{"type":"Dropout","p":1.5}]})", {})),
                       "layer 0 (Dropout): Dropout: p must be in [0, 1)");
    CHECK_FORMAT_ERROR(
        io::from_bytes<S>(sequential_file(
            R"({"layers":[{"type":"MaxPool2D","channels":1,"height":4,"width":4,"kernel":2,"stride":2,"padding":2}]})",
            {})),
        "layer 0 (MaxPool2D)");
    CHECK_FORMAT_ERROR(
        io::from_bytes<S>(sequential_file(
            R"({"layers":[{"type":"Conv2D","in_channels":1,"height":2,"width":2,"out_channels":1,"kernel":3,"stride":1,"padding":0}]})",
            {{"0.weight", {1, 1, 3, 3}}, {"0.bias", {1}}})),
        "layer 0 (Conv2D)");
  }
  SECTION("layers that do not fit together") {
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(
                           R"({"layers":[{"type":"Dense","in_features":4,"out_features":3},{"type":"Dense","in_features":5,"out_features":2}]})",
                           {{"0.weight", {3, 4}}, {"0.bias", {3}}, {"1.weight", {2, 5}}, {"1.bias", {2}}})),
                       "layers do not fit together");
  }
  SECTION("architecture that does not match the tensors") {
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(dense_4_3, {{"0.weight", {3, 4}}})),
                       "missing tensors '0.bias' [3]");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(dense_4_3, {{"0.weight", {3, 4}}, {"0.bias", {3}}, {"1.bias", {3}}})),
                       "unexpected tensors '1.bias'");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(dense_4_3, {{"0.weight", {4, 3}}, {"0.bias", {3}}})),
                       "tensor '0.weight' has shape [4, 3] but the model expects [3, 4]");
    CHECK_FORMAT_ERROR(io::from_bytes<S>(sequential_file(dense_4_3, {{"0.weight", {12}}, {"0.bias", {3}}})),
                       "tensor '0.weight' has shape [12]");
  }
  SECTION("weights that are not finite or not F32/F64") {
    SafetensorsWriter w;
    w.add_metadata("format_version", "1");
    w.add_metadata("model", "Sequential");
    w.add_metadata("architecture", dense_4_3);
    Matrix<double> wt = Matrix<double>::Zero(3, 4);
    wt(1, 2) = std::numeric_limits<double>::quiet_NaN();
    w.add("0.weight", wt, {3, 4});
    w.add("0.bias", Matrix<double>::Zero(3, 1), {3});
    CHECK_FORMAT_ERROR(io::from_bytes<S>(w.bytes()), "tensor '0.weight' contains NaN or Inf");

    // A finite double beyond float's range becomes Inf in float.
    SafetensorsWriter big;
    big.add_metadata("format_version", "1");
    big.add_metadata("model", "Sequential");
    big.add_metadata("architecture", dense_4_3);
    big.add("0.weight", Matrix<double>::Constant(3, 4, 1e300), {3, 4});
    big.add("0.bias", Matrix<double>::Zero(3, 1), {3});
    CHECK_NOTHROW(io::from_bytes<nn::Sequential<double>>(big.bytes()));
    CHECK_FORMAT_ERROR(io::from_bytes<S>(big.bytes()), "NaN or Inf (in this precision)");

    // Hand-made header: an F16 weight.
    const std::string md = R"("__metadata__":{"format_version":"1","model":"Sequential","architecture":"{\"layers\":[{\"type\":\"Dense\",\"in_features\":1,\"out_features\":1}]}"})";
    const std::string header = "{" + md +
                               R"(,"0.weight":{"dtype":"F16","shape":[1,1],"data_offsets":[0,2]},)"
                               R"("0.bias":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})";
    std::string file(8, '\0');
    file[0] = static_cast<char>(header.size() & 0xFF);
    file[1] = static_cast<char>(header.size() >> 8);
    file += header + std::string(6, '\0');
    const auto st = Safetensors::parse(file);
    CHECK_FORMAT_ERROR(io::load<S>(st), "unsupported dtype \"F16\"");
  }
  SECTION("linear model architectures") {
    SafetensorsWriter w;
    w.add_metadata("format_version", "1");
    w.add_metadata("model", "LogisticRegression");
    w.add_metadata("architecture", R"({"fit_intercept":true,"C":-1,"tol":1e-10,"max_iter":100,"n_classes":2})");
    w.add("coef", Matrix<double>::Ones(1, 2), {1, 2});
    w.add("intercept", Matrix<double>::Zero(1, 1), {1});
    CHECK_FORMAT_ERROR(io::from_bytes<LogisticRegression<double>>(w.bytes()), "LogisticRegression: LogisticRegression: C");
    SafetensorsWriter k;
    k.add_metadata("format_version", "1");
    k.add_metadata("model", "LogisticRegression");
    k.add_metadata("architecture", R"({"fit_intercept":true,"C":1,"tol":1e-10,"max_iter":100,"n_classes":4})");
    k.add("coef", Matrix<double>::Ones(1, 2), {1, 2});
    k.add("intercept", Matrix<double>::Zero(1, 1), {1});
    CHECK_FORMAT_ERROR(io::from_bytes<LogisticRegression<double>>(k.bytes()), "n_classes = 4");
  }
  SECTION("a missing file names the path") {
    CHECK_FORMAT_ERROR(io::load<S>(temp_file("eigenml_no_such_file.safetensors")),
                       "eigenml_no_such_file.safetensors: cannot open");
  }
}
