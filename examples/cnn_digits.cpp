// Handwritten digit recognition with a small convolutional network on the 8x8 digits data set
// (examples/data/digits.csv: 1,797 images, 64 pixel intensities 0..16, labels 0..9).
//
// The pipeline: read the CSV, scale the pixels to [0, 1], split 80/20 keeping the class
// proportions, hold out a tenth of the training rows for validation, and train
//
//   Conv2D 1->16 3x3 pad 1 (8x8) - ReLU - MaxPool 2x2 (4x4)
//   Conv2D 16->32 3x3 pad 1 (4x4) - ReLU - MaxPool 2x2 (2x2) - Flatten - Dense 128->10
//
// with Adam and softmax cross-entropy; the validation loss drives early stopping, which hands
// back the weights of the best epoch. Then the held-out test rows are scored: accuracy and the
// confusion matrix. Everything random (initialisation, splits, shuffling) is seeded, so every
// run prints the same numbers. An image row is its 1 x 8 x 8 pixels in C order, exactly the
// layout of the CSV's pixel_0..pixel_63, so the data needs no reshaping.

#include <eigenml/eigenml.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

/// Row-wise argmax of the logits: the predicted class of every sample.
template <class T>
eigenml::Labels argmax_rows(const eigenml::Matrix<T>& logits) {
  eigenml::Labels pred(logits.rows());
  for (eigenml::Index i = 0; i < logits.rows(); ++i) {
    eigenml::Index k = 0;
    logits.row(i).maxCoeff(&k);
    pred(i) = static_cast<int>(k);
  }
  return pred;
}

}  // namespace

int main() {
  using namespace eigenml;
  using T = float;

  const auto data = io::read_csv<T>(EIGENML_DATA_DIR "/digits.csv", {.target = "label"});
  const Labels y = data.labels();
  const Matrix<T> X = data.X / T(16);  // pixel counts 0..16 -> [0, 1]
  std::printf("digits.csv: %ld images of %ld pixels (1 x 8 x 8), %d classes\n", static_cast<long>(X.rows()),
              static_cast<long>(X.cols()), y.maxCoeff() + 1);

  // Stratified 80/20 train/test split, then 10% of the training rows for validation.
  const auto [train_all, test] = preprocessing::train_test_split(X.rows(), {.test_size = 0.2, .seed = 0, .stratify = &y});
  const Matrix<T> X_train_all = preprocessing::take_rows(X, train_all);
  const Labels y_train_all = preprocessing::take_rows(y, train_all);
  const auto [train, val] =
      preprocessing::train_test_split(X_train_all.rows(), {.test_size = 0.1, .seed = 1, .stratify = &y_train_all});
  const Matrix<T> X_train = preprocessing::take_rows(X_train_all, train);
  const Labels y_train = preprocessing::take_rows(y_train_all, train);
  const Matrix<T> X_val = preprocessing::take_rows(X_train_all, val);
  const Labels y_val = preprocessing::take_rows(y_train_all, val);
  const Matrix<T> X_test = preprocessing::take_rows(X, test);
  const Labels y_test = preprocessing::take_rows(y, test);
  std::printf("train %ld, validation %ld, test %ld rows\n\n", static_cast<long>(X_train.rows()),
              static_cast<long>(X_val.rows()), static_cast<long>(X_test.rows()));

  nn::Sequential<T> net;
  net.add(nn::Conv2D<T>({.in_channels = 1, .height = 8, .width = 8, .out_channels = 16, .kernel = 3, .padding = 1}))
      .add(nn::ReLU<T>())
      .add(nn::MaxPool2D<T>({.channels = 16, .height = 8, .width = 8, .kernel = 2, .stride = 2}))
      .add(nn::Conv2D<T>({.in_channels = 16, .height = 4, .width = 4, .out_channels = 32, .kernel = 3, .padding = 1}))
      .add(nn::ReLU<T>())
      .add(nn::MaxPool2D<T>({.channels = 32, .height = 4, .width = 4, .kernel = 2, .stride = 2}))
      .add(nn::Flatten<T>())
      .add(nn::Dense<T>(32 * 2 * 2, 10));
  // He uniform for the convolutions (each is followed by ReLU), Glorot for the last layer.
  net.initialize(/*seed=*/42);
  std::size_t n_params = 0;
  for (auto* p : net.parameters()) n_params += static_cast<std::size_t>(p->value.size());
  std::printf("%zu layers, %zu parameters\n", net.size(), n_params);

  nn::CrossEntropyLoss<T> loss;
  optim::Adam<T> adam({.lr = 2e-3});
  nn::FitCallbacks<T> callbacks{
      .early_stopping = nn::EarlyStopping{.patience = 10, .min_delta = 0.0, .restore_best_weights = true},
      .on_epoch_end = [](int epoch, const History& h, double) {
        if (epoch % 5 == 0)
          std::printf("epoch %3d  train loss %.4f  val loss %.4f  val accuracy %.4f\n", epoch, h.loss.back(),
                      h.val_loss.back(), h.val_accuracy.back());
        return true;
      }};

  const auto start = std::chrono::steady_clock::now();
  const History history =
      net.fit(X_train, y_train, loss, adam, {.epochs = 100, .batch_size = 32, .shuffle = true, .seed = 3}, X_val, y_val,
              callbacks);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::size_t best = 0;
  for (std::size_t e = 1; e < history.val_loss.size(); ++e)
    if (history.val_loss[e] < history.val_loss[best]) best = e;
  std::printf("\nstopped after %d epochs (best validation loss %.4f at epoch %zu, weights restored)\n",
              history.epochs_run(), history.val_loss[best], best + 1);
  std::printf("training time %.2f s (%.0f samples/s)\n", seconds,
              static_cast<double>(X_train.rows()) * history.epochs_run() / seconds);

  const Labels pred = argmax_rows(net.predict(X_test));
  std::printf("test loss %.4f\n", net.evaluate(X_test, y_test, loss));
  std::printf("test accuracy %.4f (%ld of %ld)\n\n", metrics::accuracy(y_test, pred),
              static_cast<long>((pred.array() == y_test.array()).count()), static_cast<long>(y_test.size()));
  std::vector<std::string> names;
  for (int d = 0; d < 10; ++d) names.push_back(std::to_string(d));
  std::printf("confusion matrix (rows: true digit, columns: predicted):\n%s\n",
              metrics::format_confusion_matrix(metrics::confusion_matrix(y_test, pred, 10), names).c_str());
  return 0;
}
