// Compile-time probe (issue 5): the W2 network trained through the public umbrella header, as a
// user's program would. benchmarks/run.py times `g++ -O2` on this file; it must stay under 10 s.
#include <eigenml/eigenml.hpp>

#include <cstdio>

int main() {
  using namespace eigenml;
  Rng rng(0);
  const Matrix<float> X = random_uniform<float>(256, 784, rng, 0, 1);
  Labels y(256);
  for (Index i = 0; i < y.size(); ++i) y(i) = static_cast<int>(rng.below(10));

  nn::Sequential<float> net;
  net.add(nn::Conv2D<float>({.in_channels = 1, .height = 28, .width = 28, .out_channels = 8, .kernel = 3, .stride = 1,
                             .padding = 1}));
  net.add(nn::ReLU<float>());
  net.add(nn::MaxPool2D<float>({.channels = 8, .height = 28, .width = 28, .kernel = 2, .stride = 2}));
  net.add(nn::Conv2D<float>({.in_channels = 8, .height = 14, .width = 14, .out_channels = 16, .kernel = 3, .stride = 1,
                             .padding = 1}));
  net.add(nn::ReLU<float>());
  net.add(nn::MaxPool2D<float>({.channels = 16, .height = 14, .width = 14, .kernel = 2, .stride = 2}));
  net.add(nn::Flatten<float>());
  net.add(nn::Dense<float>(784, 10));

  nn::CrossEntropyLoss<float> loss;
  optim::SGD<float> opt({.lr = 0.01f});
  const History h = net.fit(X, y, loss, opt, {.epochs = 2, .batch_size = 64, .shuffle = true, .seed = 0, .progress = false});
  std::printf("loss after %d epochs: %.4f\n", h.epochs_run(), h.loss.back());
  return 0;
}
