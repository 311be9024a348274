// Train a model, save it to a file, load it back: the first step of serving a model.
//
//   train_and_save [OUTPUT_DIR]      (default: the current directory)
//
// Trains a 64-32-10 ReLU network on the 8x8 digits (examples/data/digits.csv, pixels scaled to
// [0, 1]) and writes
//   OUTPUT_DIR/digits_mlp.safetensors    the model (architecture + weights, safetensors format)
//   OUTPUT_DIR/digits_request.json       a request body with three test images, for curl
// then loads the file back and checks the reloaded network predicts exactly what the trained one
// does. Serve it with `serve --model OUTPUT_DIR/digits_mlp.safetensors` (see the README).

#include <eigenml/eigenml.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

int main(int argc, char** argv) {
  using namespace eigenml;
  using T = float;
  const std::filesystem::path out_dir = argc > 1 ? argv[1] : ".";
  std::filesystem::create_directories(out_dir);

  const auto data = io::read_csv<T>(EIGENML_DATA_DIR "/digits.csv", {.target = "label"});
  const Labels y = data.labels();
  const Matrix<T> X = data.X / T(16);
  const auto [train, test] = preprocessing::train_test_split(X.rows(), {.test_size = 0.2, .seed = 0, .stratify = &y});
  const Matrix<T> X_train = preprocessing::take_rows(X, train);
  const Labels y_train = preprocessing::take_rows(y, train);
  const Matrix<T> X_test = preprocessing::take_rows(X, test);
  const Labels y_test = preprocessing::take_rows(y, test);

  // Train on logits with softmax cross-entropy, then serve the network with a final Softmax so
  // its outputs are class probabilities (the copy is deep: `net` owns its own layers).
  nn::Sequential<T> logits;
  logits.add(nn::Dense<T>(64, 32)).add(nn::ReLU<T>()).add(nn::Dense<T>(32, 10));
  logits.initialize(/*seed=*/42);
  nn::CrossEntropyLoss<T> loss;
  optim::Adam<T> adam({.lr = 3e-3});
  logits.fit(X_train, y_train, loss, adam, {.epochs = 40, .batch_size = 32, .shuffle = true, .seed = 1});
  nn::Sequential<T> net = logits;
  net.add(nn::Softmax<T>());

  const Matrix<T> proba = net.predict(X_test);
  Labels pred(proba.rows());
  for (Index i = 0; i < proba.rows(); ++i) proba.row(i).maxCoeff(&pred(i));
  std::printf("digits MLP 64-32-10: test accuracy %.4f on %ld images\n", metrics::accuracy(y_test, pred),
              static_cast<long>(y_test.size()));

  const auto model_path = out_dir / "digits_mlp.safetensors";
  io::save(net, model_path);
  std::printf("saved %s (%ld bytes)\n", model_path.string().c_str(),
              static_cast<long>(std::filesystem::file_size(model_path)));

  // Reload from the file alone: same architecture, same weights, the same predictions bit for bit.
  auto reloaded = io::load<nn::Sequential<T>>(model_path);
  const bool same = reloaded.predict(X_test) == proba;
  std::printf("reloaded: %zu layers, predictions %s\n", reloaded.size(), same ? "identical" : "DIFFERENT");

  nlohmann::json rows = nlohmann::json::array();
  for (Index i = 0; i < 3; ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (Index j = 0; j < X_test.cols(); ++j) row.push_back(static_cast<double>(X_test(i, j)));
    rows.push_back(row);
  }
  const auto request_path = out_dir / "digits_request.json";
  std::ofstream(request_path) << nlohmann::json{{"inputs", rows}}.dump() << "\n";
  std::printf("wrote %s (true labels %d %d %d)\n", request_path.string().c_str(), y_test(0), y_test(1), y_test(2));
  return same ? 0 : 1;
}
