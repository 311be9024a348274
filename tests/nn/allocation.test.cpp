// Proves that a steady-state training step (forward, loss, backward, optimizer step, and the batch
// gathering of Sequential::fit) performs no heap allocation.
//
// Eigen allocates with std::malloc, not operator new, so counting operator new would miss every
// matrix. This file therefore interposes the C allocator itself (glibc supports replacing malloc
// in the program: the replacements forward to glibc's __libc_* entry points), which sees Eigen,
// the standard library and operator new alike. The replacements are process-wide but count only
// while `Counting` is active. Sanitizer runtimes bring their own allocator, and other C libraries
// have no __libc_* entry points: there the cases are skipped with a warning.

#include <atomic>
#include <cstddef>
#include <cstdlib>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define EIGENML_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EIGENML_TEST_SANITIZED 1
#endif
#if defined(__GLIBC__) && !defined(EIGENML_TEST_SANITIZED)
#define EIGENML_TEST_COUNT_MALLOC 1
#endif

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
inline void note_allocation() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

#if defined(EIGENML_TEST_COUNT_MALLOC)
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) noexcept {
  note_allocation();
  return __libc_malloc(n);
}
void* calloc(std::size_t k, std::size_t n) noexcept {
  note_allocation();
  return __libc_calloc(k, n);
}
void* realloc(void* p, std::size_t n) noexcept {
  note_allocation();
  return __libc_realloc(p, n);
}
void* memalign(std::size_t a, std::size_t n) noexcept {
  note_allocation();
  return __libc_memalign(a, n);
}
void* aligned_alloc(std::size_t a, std::size_t n) noexcept {
  note_allocation();
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, std::size_t a, std::size_t n) noexcept {
  note_allocation();
  void* p = __libc_memalign(a, n);
  if (p == nullptr) return 12;  // ENOMEM
  *out = p;
  return 0;
}
void free(void* p) noexcept { __libc_free(p); }
}
#endif

#include <catch2/catch.hpp>

#include <eigenml/nn/activations.hpp>
#include <eigenml/nn/dense.hpp>
#include <eigenml/nn/losses.hpp>
#include <eigenml/nn/sequential.hpp>
#include <eigenml/optim/adam.hpp>
#include <eigenml/optim/sgd.hpp>
#include <eigenml/random.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace eigenml;

namespace {

/// Counts heap allocations between start() and stop().
struct Counting {
  long start_count = 0;
  void start() {
    start_count = g_allocations.load();
    g_counting.store(true);
  }
  long stop() {
    g_counting.store(false);
    return g_allocations.load() - start_count;
  }
};

bool can_count() {
#if defined(EIGENML_TEST_COUNT_MALLOC)
  return true;
#else
  WARN("allocation counting needs glibc without sanitizers: skipped");
  return false;
#endif
}

template <class T>
nn::Sequential<T> mlp(Index in, Index hidden, Index out) {
  nn::Sequential<T> net;
  net.add(nn::Dense<T>(in, hidden)).add(nn::ReLU<T>()).add(nn::Dense<T>(hidden, out));
  net.initialize(3);
  return net;
}

template <class T>
void data(Index n, Index d, Index k, Matrix<T>& X, Labels& y) {
  Rng rng(1);
  X = random_uniform<T>(n, d, rng);
  y.resize(n);
  for (Index i = 0; i < n; ++i) y(i) = static_cast<int>(rng.below(static_cast<std::uint64_t>(k)));
}

/// Allocations made by fit between the end of epoch 2 and the end of the last epoch.
template <class T>
long fit_steady_allocations(optim::Optimizer<T>& opt, Index n, int batch_size, int epochs) {
  Matrix<T> X;
  Labels y;
  data<T>(n, 20, 5, X, y);
  nn::Sequential<T> net = mlp<T>(20, 64, 5);
  nn::CrossEntropyLoss<T> loss;
  Counting counter;
  long counted = -1;
  nn::FitCallbacks<T> cb{.on_epoch_end = [&](int epoch, const History&, double) {
    if (epoch == 2) counter.start();
    if (epoch == epochs) counted = counter.stop();
    return true;
  }};
  net.fit(X, y, loss, opt, {.epochs = epochs, .batch_size = batch_size, .shuffle = true, .seed = 1, .progress = false},
          cb);
  return counted;
}

}  // namespace

TEST_CASE("allocation counter: sees Eigen and standard-library allocations", "[nn][alloc]") {
  if (!can_count()) return;
  Counting c;
  c.start();
  Matrix<float> m(10, 10);
  auto v = std::make_unique<std::vector<int>>(5);
  const long n = c.stop();
  CHECK(n >= 3);  // matrix storage, the vector object, its buffer
  CHECK(m.size() == 100);
  CHECK(v->size() == 5);
}

TEMPLATE_TEST_CASE("fit: steady-state epochs allocate nothing (Dense-ReLU-Dense, CE, SGD and Adam)", "[nn][alloc]",
                   float, double) {
  using T = TestType;
  if (!can_count()) return;
  {
    optim::SGD<T> sgd({.lr = 0.05, .momentum = 0.9});
    CHECK(fit_steady_allocations<T>(sgd, 256, 32, 6) == 0);  // 4 counted epochs of 8 steps
  }
  {
    optim::Adam<T> adam({.lr = 1e-3});
    CHECK(fit_steady_allocations<T>(adam, 256, 32, 6) == 0);
  }
  {
    optim::Adam<T> adam({.lr = 1e-3});
    CHECK(fit_steady_allocations<T>(adam, 200, 0, 6) == 0);  // full batch
  }
}

TEMPLATE_TEST_CASE("fit: a ragged last batch costs only the layers' resizes, per epoch", "[nn][alloc]", float,
                   double) {
  using T = TestType;
  if (!can_count()) return;
  // 250 rows in batches of 32: seven full batches and one of 26. Every layer and the loss resize
  // their buffers on the way to the short batch and back, a fixed cost per epoch; fit's own
  // buffers (one for full batches, one for the tail) never reallocate.
  optim::SGD<T> sgd({.lr = 0.05});
  const long counted = fit_steady_allocations<T>(sgd, 250, 32, 6);
  INFO("allocations over 4 epochs: " << counted);
  CHECK(counted > 0);
  CHECK(counted % 4 == 0);    // the same number every epoch
  CHECK(counted / 4 <= 40);   // a bounded number of buffer resizes, independent of the step count
}

TEMPLATE_TEST_CASE("a hand-written step allocates nothing after the first", "[nn][alloc]", float, double) {
  using T = TestType;
  if (!can_count()) return;
  Matrix<T> X;
  Labels y;
  data<T>(64, 20, 5, X, y);
  nn::Sequential<T> net = mlp<T>(20, 64, 5);
  nn::CrossEntropyLoss<T> loss;
  optim::Adam<T> opt({.lr = 1e-3});
  const auto params = net.parameters();
  auto step = [&] {
    loss.forward(net.forward(X), y);
    net.backward(loss.backward());
    opt.step(params);
  };
  step();
  step();
  Counting c;
  c.start();
  for (int s = 0; s < 20; ++s) step();
  CHECK(c.stop() == 0);
}

TEST_CASE("large layers: only Eigen's GEMM blocking buffers above its stack limit allocate", "[nn][alloc]") {
  if (!can_count()) return;
  // Eigen packs GEMM operands on the stack up to EIGEN_STACK_ALLOCATION_LIMIT (128 KB) and on the
  // heap above it. With 512 x 512 weights and 128-row batches the packed blocks exceed the limit,
  // so each product may allocate its packing buffers (at most two); nothing else may.
  Matrix<float> X;
  Labels y;
  data<float>(128, 512, 10, X, y);
  nn::Sequential<float> net;
  net.add(nn::Dense<float>(512, 512)).add(nn::ReLU<float>()).add(nn::Dense<float>(512, 10));
  nn::CrossEntropyLoss<float> loss;
  optim::SGD<float> opt({.lr = 0.01});
  const auto params = net.parameters();
  auto step = [&] {
    loss.forward(net.forward(X), y);
    net.backward(loss.backward());
    opt.step(params);
  };
  step();
  Counting c;
  c.start();
  const int steps = 5;
  for (int s = 0; s < steps; ++s) step();
  const long n = c.stop();
  INFO("allocations in " << steps << " steps: " << n);
  // 2 Dense layers x 3 products (forward, dW, dX) x 2 packing buffers.
  CHECK(n <= steps * 2 * 3 * 2);
}
