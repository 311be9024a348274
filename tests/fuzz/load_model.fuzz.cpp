// libFuzzer target over eigenml's model-file reader: arbitrary bytes go through the buffer
// parser and then every loader (Sequential / linear models in both precisions, and
// load_weights into a fixed network). Anything but a clean return or an eigenml::io::FormatError
// (or std::invalid_argument from a model refusing weights) is a finding: a crash, a sanitizer
// report, another exception type, or a loaded model that cannot run a forward pass.

#include <cstddef>
#include <cstdint>
#include <span>

#include "eigenml/io.hpp"

namespace {

template <class Model, class F>
void try_load(std::span<const std::byte> bytes, F&& use) {
  try {
    Model m = eigenml::io::from_bytes<Model>(bytes);
    use(m);
  } catch (const eigenml::io::FormatError&) {
  }
}

template <class T>
void run_sequential(eigenml::nn::Sequential<T>& net) {
  // A loaded network must accept a batch of its input width (when it declares one).
  const eigenml::Index in = net.input_size();
  if (in < 1 || in > 4096) return;
  eigenml::Matrix<T> X = eigenml::Matrix<T>::Constant(2, in, T(0.5));
  (void)net.predict(X);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    (void)eigenml::io::Safetensors::parse(bytes);
  } catch (const eigenml::io::FormatError&) {
    return 0;  // everything below parses the same bytes again and would fail the same way
  }
  try_load<eigenml::nn::Sequential<float>>(bytes, [](auto& m) { run_sequential(m); });
  try_load<eigenml::nn::Sequential<double>>(bytes, [](auto& m) { run_sequential(m); });
  try_load<eigenml::LinearRegression<double>>(bytes, [](auto& m) {
    (void)m.predict(eigenml::Matrix<double>::Ones(1, m.n_features()));
  });
  try_load<eigenml::LogisticRegression<float>>(bytes, [](auto& m) {
    (void)m.predict_proba(eigenml::Matrix<float>::Ones(1, m.n_features()));
  });
  try {
    (void)eigenml::io::inspect(eigenml::io::Safetensors::parse(bytes));
  } catch (const eigenml::io::FormatError&) {
  }
  try {
    eigenml::nn::Sequential<float> net;
    net.add(eigenml::nn::Dense<float>(4, 3));
    net.add(eigenml::nn::ReLU<float>());
    net.add(eigenml::nn::Dense<float>(3, 2));
    eigenml::io::load_weights_from_bytes(net, bytes);
  } catch (const eigenml::io::FormatError&) {
  }
  return 0;
}
