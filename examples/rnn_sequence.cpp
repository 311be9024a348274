// Sequence classification with recurrent networks: is a noisy signal a sine, a square or a
// sawtooth wave?
//
// Each sample is 40 time steps of one value, a x wave(t / period + phase) + noise, with the
// period (8 to 20 steps), phase, amplitude (0.5 to 1.5) and Gaussian noise (std 0.3) drawn at
// random. The class is known by construction, so the best possible accuracy is close to 100%:
// the three shapes differ in how the signal moves between its extremes (a square wave jumps and
// stays, a sawtooth climbs steadily and drops at once, a sine rises and falls alike), which no
// single time step reveals but a recurrent state can accumulate.
//
// The same task is learnt twice, by `RNN -> Dense` and by `LSTM -> Dense` (32 hidden units,
// softmax cross-entropy on the last hidden state), trained with Adam on mini-batches.
// Everything random (data, weights, shuffling) comes from seeded `eigenml::Rng`s: every run
// prints the same numbers (apart from the timings).

#include <eigenml/eigenml.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>

namespace {

using eigenml::Index;
using eigenml::Labels;
using eigenml::Matrix;
using T = float;

constexpr int kSteps = 40;   // T: time steps per sample
constexpr int kClasses = 3;  // sine, square, sawtooth
const char* const kClassNames[kClasses] = {"sine", "square", "sawtooth"};

struct Dataset {
  Matrix<T> X;  // n x kSteps (one feature per step)
  Labels y;     // n
};

/// `n` signals with balanced random classes, from `Rng(seed)`.
Dataset make_waves(Index n, std::uint64_t seed) {
  eigenml::Rng rng(seed);
  Dataset d{Matrix<T>(n, kSteps), Labels(n)};
  for (Index i = 0; i < n; ++i) {
    const int cls = static_cast<int>(rng.below(kClasses));
    const double period = rng.uniform(8.0, 20.0);
    const double phase = rng.uniform();
    const double amplitude = rng.uniform(0.5, 1.5);
    for (int t = 0; t < kSteps; ++t) {
      const double u = t / period + phase;  // position in cycles
      const double frac = u - std::floor(u);
      double wave = 0;
      switch (cls) {
        case 0: wave = std::sin(2 * std::numbers::pi * u); break;
        case 1: wave = frac < 0.5 ? 1.0 : -1.0; break;
        default: wave = 2 * frac - 1; break;
      }
      d.X(i, t) = static_cast<T>(amplitude * wave + rng.normal(0.0, 0.3));
    }
    d.y(i) = cls;
  }
  return d;
}

/// Row-wise argmax of the logits.
Labels argmax_rows(const Matrix<T>& logits) {
  Labels pred(logits.rows());
  for (Index i = 0; i < logits.rows(); ++i) logits.row(i).maxCoeff(&pred(i));
  return pred;
}

/// Trains `recurrent -> Dense(hidden, 3)` with Adam(lr) for up to `epochs` epochs, reports
/// progress on the validation set, keeps the best epoch's weights, then scores the test set.
/// Returns the test accuracy. (A plain tanh RNN needs the smaller step: its gradients through 40
/// steps vary far more than the LSTM's.)
template <class Recurrent>
double train_and_test(const char* title, Recurrent recurrent, double lr, int epochs, const Dataset& train,
                      const Dataset& val, const Dataset& test) {
  using namespace eigenml;
  std::printf("== %s ==\n", title);
  nn::Sequential<T> net;
  const Index hidden = recurrent.options().hidden_size;
  net.add(std::move(recurrent));
  net.add(nn::Dense<T>(hidden, kClasses, /*seed=*/1));
  std::printf("parameters: %ld\n", [&] {
    long count = 0;
    for (auto* p : net.parameters()) count += static_cast<long>(p->value.size());
    return count;
  }());

  nn::CrossEntropyLoss<T> loss;
  optim::Adam<T> adam({.lr = lr});
  nn::FitCallbacks<T> callbacks;
  // Keep the weights of the epoch with the lowest validation loss (Adam's steps are noisy).
  callbacks.early_stopping = nn::EarlyStopping{.patience = 10, .min_delta = 0.0, .restore_best_weights = true};
  callbacks.on_epoch_end = [](int epoch, const History& h, double) {
    if (epoch == 1 || epoch % 5 == 0)
      std::printf("  epoch %2d  train loss %.4f  val loss %.4f  val accuracy %.3f\n", epoch, h.loss.back(),
                  h.val_loss.back(), h.val_accuracy.back());
    return true;
  };
  const auto start = std::chrono::steady_clock::now();
  const History history = net.fit(train.X, train.y, loss, adam,
                                  {.epochs = epochs, .batch_size = 32, .shuffle = true, .seed = 7, .progress = false},
                                  val.X, val.y, callbacks);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const Labels pred = argmax_rows(net.predict(test.X));
  const double accuracy = metrics::accuracy(test.y, pred);
  std::printf("trained %d epochs in %.2f s; test accuracy %.4f (%ld signals)\n", history.epochs_run(), seconds,
              accuracy, static_cast<long>(test.y.size()));
  std::printf("confusion matrix (rows: true class, columns: predicted):\n%s\n",
              metrics::format_confusion_matrix(metrics::confusion_matrix(test.y, pred, kClasses),
                                               {kClassNames[0], kClassNames[1], kClassNames[2]})
                  .c_str());
  return accuracy;
}

}  // namespace

int main() {
  using namespace eigenml;
  const Dataset train = make_waves(3000, 1), val = make_waves(500, 2), test = make_waves(1000, 3);
  std::printf("noisy waves: %d steps x 1 feature; %ld train, %ld validation, %ld test signals\n", kSteps,
              static_cast<long>(train.y.size()), static_cast<long>(val.y.size()), static_cast<long>(test.y.size()));
  std::printf("example (first training signal, class %s):", kClassNames[train.y(0)]);
  for (int t = 0; t < 12; ++t) std::printf(" %.2f", static_cast<double>(train.X(0, t)));
  std::printf(" ...\n\n");

  const nn::RecurrentOptions options{.input_size = 1, .hidden_size = 32, .seq_len = kSteps};
  const double rnn = train_and_test("RNN(1 -> 32) -> Dense(32 -> 3)", nn::RNN<T>(options, /*seed=*/1), /*lr=*/1e-3,
                                    /*epochs=*/30, train, val, test);
  const double lstm = train_and_test("LSTM(1 -> 32) -> Dense(32 -> 3)", nn::LSTM<T>(options, /*seed=*/1), /*lr=*/5e-3,
                                     /*epochs=*/25, train, val, test);
  std::printf("test accuracy: RNN %.4f, LSTM %.4f (chance: %.3f)\n", rnn, lstm, 1.0 / kClasses);
  return 0;
}
