#pragma once
// Shared by every tests/optim file, and included by each FIRST (before any Eigen header): it
// turns on Eigen's runtime allocation check in a way that counts instead of aborting, so tests
// can prove that a steady-state optimizer step allocates nothing. Every optimizer test file
// includes it, so all translation units of the test binary see the same Eigen configuration.

#define EIGEN_RUNTIME_NO_MALLOC

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace eigenml::test {

/// Heap allocations Eigen attempted while `set_is_malloc_allowed(false)` was in force.
inline int& forbidden_eigen_allocations() {
  static int count = 0;
  return count;
}

inline void eigen_assert_failed(const char* expr, const char* file, int line) {
  if (std::strstr(expr, "heap allocation is forbidden") != nullptr) {
    ++forbidden_eigen_allocations();
    return;
  }
  std::fprintf(stderr, "%s:%d: Eigen assertion failed: %s\n", file, line, expr);
  std::abort();
}

}  // namespace eigenml::test

// Active in every build type (Release defines NDEBUG, which would silence Eigen's own).
#define eigen_assert(x)                                                              \
  do {                                                                               \
    if (!static_cast<bool>(x)) ::eigenml::test::eigen_assert_failed(#x, __FILE__, __LINE__); \
  } while (false)

#include <catch2/catch.hpp>

#include <eigenml/optim.hpp>

#include <algorithm>
#include <iomanip>
#include <cmath>
#include <string>
#include <vector>

namespace eigenml::test {

/// Counts Eigen heap allocations inside its scope.
class EigenAllocationCounter {
 public:
  EigenAllocationCounter() : start_(forbidden_eigen_allocations()) { Eigen::internal::set_is_malloc_allowed(false); }
  ~EigenAllocationCounter() { Eigen::internal::set_is_malloc_allowed(true); }
  EigenAllocationCounter(const EigenAllocationCounter&) = delete;
  EigenAllocationCounter& operator=(const EigenAllocationCounter&) = delete;
  int count() const { return forbidden_eigen_allocations() - start_; }

 private:
  int start_;
};

/// The fixed problem of tests/reference/optim_reference.py: parameters P0 (2x3) and P1 (3x1)
/// with gradient g(p) = 2 (p - c) + 0.1 p^3, elementwise.
template <class T>
struct OptimProblem {
  Parameter<T> p0{2, 3}, p1{3, 1};
  Matrix<T> c0{2, 3}, c1{3, 1};

  OptimProblem() {
    p0.value << 0.5, -1.0, 2.0, 0.0, 1.5, -0.25;
    p1.value << 1.0, -2.0, 0.75;
    c0 << 1.0, 0.0, -1.0, 0.5, 0.5, 0.5;
    c1 << -1.0, 0.25, 2.0;
  }
  std::vector<Parameter<T>*> params() { return {&p0, &p1}; }
  void compute_grads() {
    p0.grad.array() = T(2) * (p0.value.array() - c0.array()) + T(0.1) * p0.value.array().cube();
    p1.grad.array() = T(2) * (p1.value.array() - c1.array()) + T(0.1) * p1.value.array().cube();
  }
  /// P0 row-major then P1: the layout of the reference rows.
  double value(int k) const { return k < 6 ? double(p0.value(k / 3, k % 3)) : double(p1.value(k - 6, 0)); }
};

/// Relative tolerance of a trajectory comparison against double-precision references.
template <class T>
constexpr double traj_tol() {
  return std::is_same_v<T, float> ? 2e-5 : 1e-12;
}

/// |a - b| <= tol * max(|b|, 1e-2): relative, with a floor for values that cross zero.
inline bool close(double a, double b, double tol) { return std::abs(a - b) <= tol * std::max(std::abs(b), 1e-2); }

/// Runs `Steps` steps of `opt` on OptimProblem and compares the parameters after each step
/// with the torch reference rows.
template <class T, std::size_t Steps>
void check_trajectory(optim::Optimizer<T>& opt, const double (&ref)[Steps][9]) {
  OptimProblem<T> prob;
  for (std::size_t s = 0; s < Steps; ++s) {
    prob.compute_grads();
    opt.step(prob.params());
    for (int k = 0; k < 9; ++k) {
      INFO("step " << s + 1 << ", entry " << k << ": got " << std::setprecision(17) << prob.value(k) << ", torch "
                           << ref[s][k]);
      CHECK(close(prob.value(k), ref[s][k], traj_tol<T>()));
    }
  }
}

}  // namespace eigenml::test
