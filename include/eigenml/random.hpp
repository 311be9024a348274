#pragma once
/// \file random.hpp
/// Seeded, platform-independent randomness. `std::*_distribution` output differs between standard
/// libraries, so eigenml draws every random number through `Rng`: xoshiro256** (Blackman & Vigna,
/// "Scrambled linear pseudorandom number generators", 2021) seeded by splitmix64, with its own
/// uniform, integer and normal draws. Same seed, same numbers, on every platform.

#include <cmath>
#include <cstdint>
#include <numbers>
#include <stdexcept>
#include <utility>

#include "eigenml/core.hpp"

namespace eigenml {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& s : s_) s = splitmix64(x);
    has_spare_ = false;
  }

  /// 64 uniformly distributed bits.
  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [0, n), without modulo bias (Lemire's multiply-and-reject).
  std::uint64_t below(std::uint64_t n) {
    __extension__ using u128 = unsigned __int128;  // GCC/Clang; __extension__ keeps -Wpedantic quiet
    if (n == 0) throw std::invalid_argument("Rng::below: n must be positive");
    u128 m = static_cast<u128>(next_u64()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<u128>(next_u64()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  /// Standard normal draw (Box-Muller; the second value of each pair is kept for the next call).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = 0.0;
    while (u1 == 0.0) u1 = uniform();  // log(0) is -inf
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
  }

  double normal(double mean, double stddev) { return mean + stddev * normal(); }

  /// Fisher-Yates shuffle of a random-access range.
  template <class It>
  void shuffle(It first, It last) {
    const auto n = static_cast<std::uint64_t>(last - first);
    for (std::uint64_t i = n; i > 1; --i) {
      const auto j = below(i);
      using std::swap;
      swap(first[i - 1], first[j]);
    }
  }

  /// Fill `m` with uniform values in [lo, hi).
  template <class Derived>
  void fill_uniform(Eigen::DenseBase<Derived>& m, double lo, double hi) {
    using S = typename Derived::Scalar;
    for (Index i = 0; i < m.rows(); ++i)
      for (Index j = 0; j < m.cols(); ++j) m(i, j) = static_cast<S>(uniform(lo, hi));
  }

  /// Fill `m` with normal values.
  template <class Derived>
  void fill_normal(Eigen::DenseBase<Derived>& m, double mean = 0.0, double stddev = 1.0) {
    using S = typename Derived::Scalar;
    for (Index i = 0; i < m.rows(); ++i)
      for (Index j = 0; j < m.cols(); ++j) m(i, j) = static_cast<S>(normal(mean, stddev));
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  std::uint64_t s_[4]{};
  double spare_ = 0.0;
  bool has_spare_ = false;
};

/// A uniform random matrix in [lo, hi) (convenience for tests and examples).
template <class T>
Matrix<T> random_uniform(Index rows, Index cols, Rng& rng, double lo = -1.0, double hi = 1.0) {
  Matrix<T> m(rows, cols);
  rng.fill_uniform(m, lo, hi);
  return m;
}

/// A standard-normal random matrix.
template <class T>
Matrix<T> random_normal(Index rows, Index cols, Rng& rng, double mean = 0.0, double stddev = 1.0) {
  Matrix<T> m(rows, cols);
  rng.fill_normal(m, mean, stddev);
  return m;
}

}  // namespace eigenml
