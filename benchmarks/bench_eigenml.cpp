// eigenml's side of the benchmark workloads (issue 5). The names match peers/bench_torch.cpp and
// peers/bench_numpy.py so benchmarks/run.py can pair them. Threads: BENCH_THREADS (default 1)
// sets Eigen's thread count (the benchmarks are built with OpenMP so Eigen's GEMM can use it).
#include <benchmark/benchmark.h>

#include <eigenml/eigenml.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace eigenml;

namespace {

int bench_threads() {
  const char* env = std::getenv("BENCH_THREADS");
  return env ? std::atoi(env) : 1;
}

Labels random_labels(Index n, int k, Rng& rng) {
  Labels y(n);
  for (Index i = 0; i < n; ++i) y(i) = static_cast<int>(rng.below(static_cast<std::uint64_t>(k)));
  return y;
}

nn::Sequential<float> mlp() {
  nn::Sequential<float> net;
  net.add(nn::Dense<float>(784, 256));
  net.add(nn::ReLU<float>());
  net.add(nn::Dense<float>(256, 128));
  net.add(nn::ReLU<float>());
  net.add(nn::Dense<float>(128, 10));
  return net;
}

nn::Sequential<float> cnn() {
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
  return net;
}

template <class Recurrent>
nn::Sequential<float> recurrent() {
  nn::Sequential<float> net;
  net.add(Recurrent({.input_size = 32, .hidden_size = 128, .seq_len = 50}));
  net.add(nn::Dense<float>(128, 10));
  return net;
}

/// One training step = forward + loss + backward + optimizer step, as the peers time it.
void train_step(benchmark::State& state, nn::Sequential<float>& net, const Matrix<float>& X, const Labels& y) {
  nn::CrossEntropyLoss<float> loss;
  optim::SGD<float> opt({.lr = 0.01f});
  const auto params = net.parameters();
  net.set_needs_input_grad(false);  // the data needs no gradient, as the peers' inputs (and fit)
  for (auto _ : state) {
    const Matrix<float>& out = net.forward(X);
    benchmark::DoNotOptimize(loss.forward(out, y));
    net.backward(loss.backward());
    opt.step(params);
  }
  state.SetItemsProcessed(state.iterations() * X.rows());
}

/// Inference as a user runs it: `predict` (checks the input, runs in evaluation mode, as many rows
/// per pass as keep the activations in cache, returns a new matrix). libtorch's side: `forward`
/// in evaluation mode under `NoGradGuard`.
void infer(benchmark::State& state, nn::Sequential<float>& net, const Matrix<float>& X) {
  for (auto _ : state) {
    const Matrix<float> out = net.predict(X);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * X.rows());
}

void W1_train(benchmark::State& state) {
  Rng rng(0);
  auto net = mlp();
  train_step(state, net, random_uniform<float>(64, 784, rng, 0, 1), random_labels(64, 10, rng));
}
void W1_infer(benchmark::State& state, std::int64_t batch) {
  Rng rng(0);
  auto net = mlp();
  infer(state, net, random_uniform<float>(batch, 784, rng, 0, 1));
}
void W2_train(benchmark::State& state) {
  Rng rng(0);
  auto net = cnn();
  train_step(state, net, random_uniform<float>(64, 784, rng, 0, 1), random_labels(64, 10, rng));
}
void W2_infer(benchmark::State& state, std::int64_t batch) {
  Rng rng(0);
  auto net = cnn();
  infer(state, net, random_uniform<float>(batch, 784, rng, 0, 1));
}
void W3_rnn_train(benchmark::State& state) {
  Rng rng(0);
  auto net = recurrent<nn::RNN<float>>();
  train_step(state, net, random_normal<float>(32, 50 * 32, rng), random_labels(32, 10, rng));
}
void W3_lstm_train(benchmark::State& state) {
  Rng rng(0);
  auto net = recurrent<nn::LSTM<float>>();
  train_step(state, net, random_normal<float>(32, 50 * 32, rng), random_labels(32, 10, rng));
}

// W4: logistic regression, 100,000 x 20, double.
struct LogisticData {
  Matrix<double> X;
  Labels y;
  LogisticData() {
    Rng rng(0);
    X = random_normal<double>(100000, 20, rng);
    y.resize(X.rows());
    for (Index i = 0; i < X.rows(); ++i) y(i) = X(i, 0) + 0.5 * rng.normal() > 0 ? 1 : 0;
  }
};
const LogisticData& logistic_data() {
  static const LogisticData d;
  return d;
}

void W4_gd100(benchmark::State& state) {
  const auto& d = logistic_data();
  for (auto _ : state) {
    LogisticRegression<double> c;
    optim::SGD<double> opt({.lr = 0.1});
    c.fit(d.X, d.y, opt, {.epochs = 100, .batch_size = 0, .shuffle = false, .seed = 0, .progress = false});
    benchmark::DoNotOptimize(c.coef().data());
  }
}
void W4_exact(benchmark::State& state) {
  const auto& d = logistic_data();
  for (auto _ : state) {
    LogisticRegression<double> c;
    c.fit(d.X, d.y);
    benchmark::DoNotOptimize(c.coef().data());
  }
}

// W5: linear regression, double.
struct LinearData {
  Matrix<double> X;
  Vector<double> y;
  LinearData(Index n, Index d) {
    Rng rng(1);
    X = random_normal<double>(n, d, rng);
    const Vector<double> w = random_normal<double>(d, 1, rng);
    y = X * w;
    for (Index i = 0; i < n; ++i) y(i) += 0.5 + 0.1 * rng.normal();
  }
};
/// The two W5 data sets, made on first use: 1,000,000 x 10 ("tall") and 100,000 x 100.
const LinearData& linear_data(Index n, Index d) {
  static const LinearData tall(1000000, 10), wide(100000, 100);
  return n == tall.X.rows() && d == tall.X.cols() ? tall : wide;
}

void W5_exact(benchmark::State& state, Index n, Index p) {
  const auto& d = linear_data(n, p);
  for (auto _ : state) {
    LinearRegression<double> m;
    m.fit(d.X, d.y);
    benchmark::DoNotOptimize(m.coef().data());
  }
}
/// The baseline the exact fit is judged against: normal equations with an intercept column,
/// (X~^T X~) w = X~^T y by Cholesky — fast, and numerically the weakest method. Written as fast
/// as we can: one chunked pass over X forms X^T X (the Gram kernels the exact fit uses), X^T y and
/// the column sums X^T 1 while each chunk is in cache; then one (p+1) x (p+1) Cholesky solve.
/// No centring, no equilibration, no refinement.
void W5_normal_eq(benchmark::State& state, Index n, Index p) {
  const auto& d = linear_data(n, p);
  const Index chunk = std::min(n, detail::least_squares_chunk_rows(p));
  for (auto _ : state) {
    Eigen::MatrixXd G = Eigen::MatrixXd::Zero(p + 1, p + 1);
    Vector<double> col_sum = Vector<double>::Zero(p), Xty = Vector<double>::Zero(p), scratch(chunk);
    const Vector<double> zero = Vector<double>::Zero(p);
    double y_sum = 0.0;
    auto Gx = G.topLeftCorner(p, p);
    // With w0 = 0 the pass's "residual" is y itself: G += X^T X, X^T y, sum(y) and X^T 1.
    detail::gram_residual_pass<double>(d.X, d.y, 0, n, chunk, true, zero, 0.0, Gx, col_sum, Xty, y_sum, scratch);
    G.bottomLeftCorner(1, p) = col_sum.transpose();
    G(p, p) = static_cast<double>(n);
    Eigen::VectorXd b(p + 1);
    b.head(p) = Xty;
    b(p) = y_sum;
    Eigen::VectorXd w = G.selfadjointView<Eigen::Lower>().llt().solve(b);
    benchmark::DoNotOptimize(w.data());
  }
}
void W5_gd100(benchmark::State& state, Index n, Index p) {
  const auto& d = linear_data(n, p);
  for (auto _ : state) {
    LinearRegression<double> m;
    optim::SGD<double> opt({.lr = 0.01});
    m.fit(d.X, d.y, opt, {.epochs = 100, .batch_size = 0, .shuffle = false, .seed = 0, .progress = false});
    benchmark::DoNotOptimize(m.coef().data());
  }
}

/// The machine's matrix-product rate, measured in the same run: C = A B, n x n.
template <class T>
void gemm(benchmark::State& state, Index n) {
  Rng rng(0);
  const Eigen::Matrix<T, -1, -1> A = random_uniform<T>(n, n, rng), B = random_uniform<T>(n, n, rng);
  Eigen::Matrix<T, -1, -1> C(n, n);
  for (auto _ : state) {
    C.noalias() = A * B;
    benchmark::DoNotOptimize(C.data());
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * static_cast<double>(n * n * n) * static_cast<double>(state.iterations()),
                                                benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

void register_all() {
  const int threads = bench_threads();
  Eigen::setNbThreads(threads);
  benchmark::AddCustomContext("threads", std::to_string(threads));
  benchmark::AddCustomContext("library", "eigenml");
  benchmark::AddCustomContext("eigen_threads", std::to_string(Eigen::nbThreads()));
  auto us = benchmark::kMicrosecond;
  auto ms = benchmark::kMillisecond;
  benchmark::RegisterBenchmark("gemm/f32/512", gemm<float>, 512)->Unit(us);
  benchmark::RegisterBenchmark("gemm/f64/512", gemm<double>, 512)->Unit(us);
  benchmark::RegisterBenchmark("W1/train/b64", W1_train)->Unit(us);
  benchmark::RegisterBenchmark("W1/infer/b1", W1_infer, 1)->Unit(us);
  benchmark::RegisterBenchmark("W1/infer/b256", W1_infer, 256)->Unit(us);
  benchmark::RegisterBenchmark("W2/train/b64", W2_train)->Unit(us);
  benchmark::RegisterBenchmark("W2/infer/b1", W2_infer, 1)->Unit(us);
  benchmark::RegisterBenchmark("W2/infer/b256", W2_infer, 256)->Unit(us);
  benchmark::RegisterBenchmark("W3/rnn/train", W3_rnn_train)->Unit(us);
  benchmark::RegisterBenchmark("W3/lstm/train", W3_lstm_train)->Unit(us);
  benchmark::RegisterBenchmark("W4/gd100", W4_gd100)->Unit(ms);
  benchmark::RegisterBenchmark("W4/exact", W4_exact)->Unit(ms);
  benchmark::RegisterBenchmark("W5/1000kx10/exact", W5_exact, 1000000, 10)->Unit(ms);
  benchmark::RegisterBenchmark("W5/1000kx10/normal_eq", W5_normal_eq, 1000000, 10)->Unit(ms);
  benchmark::RegisterBenchmark("W5/1000kx10/gd100", W5_gd100, 1000000, 10)->Unit(ms);
  benchmark::RegisterBenchmark("W5/100kx100/exact", W5_exact, 100000, 100)->Unit(ms);
  benchmark::RegisterBenchmark("W5/100kx100/normal_eq", W5_normal_eq, 100000, 100)->Unit(ms);
  benchmark::RegisterBenchmark("W5/100kx100/gd100", W5_gd100, 100000, 100)->Unit(ms);
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
