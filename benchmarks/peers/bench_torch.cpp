// The benchmark workloads written with libtorch's C++ API, for the side-by-side comparison.
// Same shapes, same optimizer and the same benchmark names as bench_eigenml.cpp, so the runner
// pairs them by name. Threads: BENCH_THREADS (default 1) sets torch::set_num_threads.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstdlib>

namespace {

int bench_threads() {
  const char* env = std::getenv("BENCH_THREADS");
  return env ? std::atoi(env) : 1;
}

struct Mlp : torch::nn::Module {
  torch::nn::Linear l1{784, 256}, l2{256, 128}, l3{128, 10};
  Mlp() {
    register_module("l1", l1);
    register_module("l2", l2);
    register_module("l3", l3);
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(l1(x));
    x = torch::relu(l2(x));
    return l3(x);
  }
};

struct Cnn : torch::nn::Module {
  torch::nn::Conv2d c1{torch::nn::Conv2dOptions(1, 8, 3).padding(1)};
  torch::nn::Conv2d c2{torch::nn::Conv2dOptions(8, 16, 3).padding(1)};
  torch::nn::Linear fc{784, 10};
  Cnn() {
    register_module("c1", c1);
    register_module("c2", c2);
    register_module("fc", fc);
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(torch::relu(c1(x)), 2);
    x = torch::max_pool2d(torch::relu(c2(x)), 2);
    return fc(x.flatten(1));
  }
};

template <class Rnn, class RnnOptions>
struct Recurrent : torch::nn::Module {
  Rnn rnn;
  torch::nn::Linear fc{128, 10};
  Recurrent() : rnn(RnnOptions(32, 128).batch_first(true)) {
    register_module("rnn", rnn);
    register_module("fc", fc);
  }
  torch::Tensor forward(torch::Tensor x) {
    auto out = std::get<0>(rnn->forward(x));
    return fc(out.select(1, out.size(1) - 1));
  }
};

template <class Net>
void train_step(benchmark::State& state, Net& net, const torch::Tensor& x, const torch::Tensor& y) {
  torch::optim::SGD opt(net.parameters(), torch::optim::SGDOptions(0.01));
  for (auto _ : state) {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net.forward(x), y);
    loss.backward();
    opt.step();
  }
  state.SetItemsProcessed(state.iterations() * x.size(0));
}

template <class Net>
void infer(benchmark::State& state, Net& net, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  net.eval();
  for (auto _ : state) benchmark::DoNotOptimize(net.forward(x));
  state.SetItemsProcessed(state.iterations() * x.size(0));
}

void W1_train(benchmark::State& state) {
  torch::manual_seed(0);
  Mlp net;
  train_step(state, net, torch::rand({64, 784}), torch::randint(10, {64}));
}
void W1_infer(benchmark::State& state, std::int64_t batch) {
  torch::manual_seed(0);
  Mlp net;
  infer(state, net, torch::rand({batch, 784}));
}
void W2_train(benchmark::State& state) {
  torch::manual_seed(0);
  Cnn net;
  train_step(state, net, torch::rand({64, 1, 28, 28}), torch::randint(10, {64}));
}
void W2_infer(benchmark::State& state, std::int64_t batch) {
  torch::manual_seed(0);
  Cnn net;
  infer(state, net, torch::rand({batch, 1, 28, 28}));
}
void W3_rnn_train(benchmark::State& state) {
  torch::manual_seed(0);
  Recurrent<torch::nn::RNN, torch::nn::RNNOptions> net;
  train_step(state, net, torch::randn({32, 50, 32}), torch::randint(10, {32}));
}
void W3_lstm_train(benchmark::State& state) {
  torch::manual_seed(0);
  Recurrent<torch::nn::LSTM, torch::nn::LSTMOptions> net;
  train_step(state, net, torch::randn({32, 50, 32}), torch::randint(10, {32}));
}

// W4: logistic regression by hand-written full-batch gradient descent, double.
void W4_gd100(benchmark::State& state) {
  torch::manual_seed(0);
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  auto X = torch::randn({100000, 20}, opts);
  auto y = (X.select(1, 0) > 0).to(torch::kFloat64);
  const double n = 100000.0;
  for (auto _ : state) {
    auto w = torch::zeros({20}, opts);
    double b = 0.0;
    for (int it = 0; it < 100; ++it) {
      auto p = torch::sigmoid(torch::mv(X, w) + b);
      auto r = p - y;
      w -= 0.1 * torch::mv(X.t(), r) / n;
      b -= 0.1 * r.sum().item<double>() / n;
    }
    benchmark::DoNotOptimize(w.data_ptr<double>());
  }
}

void register_all() {
  const int threads = bench_threads();
  torch::set_num_threads(threads);
  benchmark::AddCustomContext("threads", std::to_string(threads));
  benchmark::AddCustomContext("library", "libtorch");
  benchmark::RegisterBenchmark("W1/train/b64", W1_train)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("W1/infer/b1", W1_infer, 1)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("W1/infer/b256", W1_infer, 256)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("W2/train/b64", W2_train)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("W2/infer/b1", W2_infer, 1)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("W2/infer/b256", W2_infer, 256)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("W3/rnn/train", W3_rnn_train)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("W3/lstm/train", W3_lstm_train)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("W4/gd100", W4_gd100)->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
