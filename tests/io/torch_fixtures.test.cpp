// PyTorch interoperability: state_dicts written by PyTorch (tests/reference/make_torch_fixtures.py,
// files in tests/data/torch/) load with io::load_weights into the same architecture built in
// eigenml, and the outputs match PyTorch's float64 outputs. This pins the tensor layouts: Linear
// weight [out, in], conv weight [out, in, k, k] in C order, RNN/LSTM/GRU weights with PyTorch's
// gate order (i, f, g, o for LSTM; r, z, n for GRU), and the flattening of images and sequences.

#include <catch2/catch.hpp>

#include <string>

#include "eigenml/io.hpp"
#include "eigenml/nn.hpp"

using eigenml::Matrix;
using eigenml::io::Safetensors;
namespace nn = eigenml::nn;
namespace io = eigenml::io;

namespace {

const std::string dir = EIGENML_TEST_DATA_DIR "/torch/";

/// Loads `<name>.weights.safetensors` into `net`, runs `<name>.io.safetensors`'s input and returns
/// the largest absolute difference from PyTorch's output.
template <class T>
double max_abs_diff(nn::Sequential<T>& net, const std::string& name) {
  io::load_weights(net, dir + name + ".weights.safetensors");
  const auto ref = Safetensors::read(dir + name + ".io.safetensors");
  const auto& in = ref.info("input").shape;
  const auto& out = ref.info("output").shape;
  REQUIRE(in.size() == 2);
  REQUIRE(out.size() == 2);
  const Matrix<T> X = ref.matrix<T>("input", static_cast<eigenml::Index>(in[0]), static_cast<eigenml::Index>(in[1]));
  const Matrix<double> Y = ref.matrix<double>("output", static_cast<eigenml::Index>(out[0]),
                                              static_cast<eigenml::Index>(out[1]));
  const Matrix<T> P = net.predict(X);
  REQUIRE(P.rows() == Y.rows());
  REQUIRE(P.cols() == Y.cols());
  return (P.template cast<double>() - Y).cwiseAbs().maxCoeff();
}

template <class T>
constexpr double tolerance() {
  return sizeof(T) == 8 ? 1e-6 : 1e-4;
}

}  // namespace

TEMPLATE_TEST_CASE("a PyTorch MLP state_dict loads and reproduces PyTorch's outputs", "[io][torch]", float, double) {
  using T = TestType;
  nn::Sequential<T> net;
  net.add(nn::Dense<T>(5, 8)).add(nn::ReLU<T>()).add(nn::Dense<T>(8, 8)).add(nn::Tanh<T>());
  net.add(nn::Dense<T>(8, 6)).add(nn::GELU<T>()).add(nn::Dense<T>(6, 3));
  CHECK(max_abs_diff(net, "mlp") < tolerance<T>());
}

TEMPLATE_TEST_CASE("a PyTorch CNN state_dict loads and reproduces PyTorch's outputs", "[io][torch]", float, double) {
  using T = TestType;
  nn::Sequential<T> net;
  net.add(nn::Conv2D<T>({.in_channels = 2, .height = 6, .width = 6, .out_channels = 3, .kernel = 3, .stride = 1,
                         .padding = 1}));
  net.add(nn::ReLU<T>());
  net.add(nn::MaxPool2D<T>({.channels = 3, .height = 6, .width = 6, .kernel = 2, .stride = 2}));
  net.add(nn::Conv2D<T>({.in_channels = 3, .height = 3, .width = 3, .out_channels = 4, .kernel = 2, .stride = 1}));
  net.add(nn::AvgPool2D<T>({.channels = 4, .height = 2, .width = 2, .kernel = 2, .stride = 1, .padding = 1}));
  net.add(nn::Flatten<T>());
  net.add(nn::Dense<T>(36, 3));
  CHECK(max_abs_diff(net, "cnn") < tolerance<T>());
}

TEMPLATE_TEST_CASE("a PyTorch LSTM state_dict loads and reproduces PyTorch's outputs", "[io][torch]", float, double) {
  using T = TestType;
  nn::Sequential<T> net;
  net.add(nn::LSTM<T>({.input_size = 3, .hidden_size = 5, .seq_len = 4}));
  net.add(nn::Dense<T>(5, 2));
  CHECK(max_abs_diff(net, "lstm") < tolerance<T>());
}

TEMPLATE_TEST_CASE("PyTorch RNN and GRU state_dicts load and reproduce PyTorch's outputs", "[io][torch]", float,
                   double) {
  using T = TestType;
  nn::Sequential<T> net;
  net.add(nn::RNN<T>({.input_size = 3, .hidden_size = 4, .seq_len = 4, .return_sequences = true}));
  net.add(nn::GRU<T>({.input_size = 4, .hidden_size = 5, .seq_len = 4}));
  net.add(nn::Dense<T>(5, 2));
  CHECK(max_abs_diff(net, "rnn_gru") < tolerance<T>());
}

TEST_CASE("a PyTorch state_dict that does not match the network is refused with names", "[io][torch]") {
  nn::Sequential<double> net;  // the LSTM file into an MLP-shaped network
  net.add(nn::Dense<double>(12, 5)).add(nn::Dense<double>(5, 2));
  CHECK_THROWS_AS(io::load_weights(net, dir + "lstm.weights.safetensors"), io::FormatError);
  CHECK_THROWS_WITH(io::load_weights(net, dir + "lstm.weights.safetensors"),
                    Catch::Matchers::Contains("missing tensors '0.weight' [5, 12], '0.bias' [5]") &&
                        Catch::Matchers::Contains("lstm.weights.safetensors"));
}
