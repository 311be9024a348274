#pragma once
/// \file preprocessing/split.hpp
/// Seeded train/test splits (optionally stratified by class) and row gathering.
///
/// ```cpp
/// using namespace eigenml::preprocessing;
/// auto [train, test] = train_test_split(X.rows(), {.test_size = 0.2, .seed = 0, .stratify = &y});
/// Matrix<double> X_train = take_rows(X, train);
/// Labels y_test = take_rows(y, test);
/// // or all at once:
/// auto [X_tr, X_te, y_tr, y_te] = train_test_split(X, y, {.test_size = 0.2, .stratify = &y});
/// ```

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"
#include "eigenml/random.hpp"

namespace eigenml::preprocessing {

/// How `train_test_split` divides `n` samples.
struct SplitOptions {
  /// Fraction of the samples in the test part, in (0, 1). The test part has `ceil(test_size * n)`
  /// samples (scikit-learn's rounding); both parts must end up non-empty.
  double test_size = 0.25;
  /// Seed of the shuffle (through eigenml::Rng): same seed, same split, on every platform.
  std::uint64_t seed = 0;
  /// If set, the split keeps each class's share in both parts: class `c` with `n_c` samples puts
  /// about `n_c * n_test / n` of them in the test part (largest-remainder rounding, so the part
  /// sizes are exactly those of the unstratified split). Labels must be >= 0, one per sample, and
  /// every class present must have at least 2 samples. The pointee is only read during the call.
  const Labels* stratify = nullptr;
  /// Shuffle before splitting. `false` takes the first samples as train and the last as test, in
  /// order (not allowed with `stratify`).
  bool shuffle = true;
};

/// Row indices of the two parts. Both are in random order when the split shuffles.
struct SplitIndices {
  std::vector<Index> train;
  std::vector<Index> test;
};

/// Split `0..n-1` into train and test indices. Disjoint, and together exactly `0..n-1`.
inline SplitIndices train_test_split(Index n, const SplitOptions& options = {}) {
  constexpr const char* where = "train_test_split";
  if (n < 2) detail::fail(where, "need at least 2 samples to split, got n = " + std::to_string(n));
  if (!(options.test_size > 0.0 && options.test_size < 1.0))
    detail::fail(where, "SplitOptions.test_size must be in (0, 1), got " + std::to_string(options.test_size));
  const auto n_test = static_cast<Index>(std::ceil(options.test_size * static_cast<double>(n)));
  if (n_test >= n)
    detail::fail(where, "SplitOptions.test_size = " + std::to_string(options.test_size) + " leaves no training sample of " +
                            std::to_string(n));

  SplitIndices out;
  out.train.reserve(static_cast<std::size_t>(n - n_test));
  out.test.reserve(static_cast<std::size_t>(n_test));
  std::vector<Index> order(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;

  if (options.stratify == nullptr) {
    if (options.shuffle) {
      Rng rng(options.seed);
      rng.shuffle(order.begin(), order.end());
      // Test first: a permutation's prefix is a uniform random subset.
      out.test.assign(order.begin(), order.begin() + n_test);
      out.train.assign(order.begin() + n_test, order.end());
    } else {
      out.train.assign(order.begin(), order.end() - n_test);
      out.test.assign(order.end() - n_test, order.end());
    }
    return out;
  }

  const Labels& y = *options.stratify;
  if (!options.shuffle) detail::fail(where, "SplitOptions.stratify requires SplitOptions.shuffle = true");
  detail::check_rows(where, "stratify labels", y.size(), "n", n);
  if (y.minCoeff() < 0)
    detail::fail(where, "stratify labels must be >= 0, got " + std::to_string(y.minCoeff()));
  const auto K = static_cast<std::size_t>(y.maxCoeff()) + 1;
  std::vector<Index> count(K, 0);
  for (Index i = 0; i < n; ++i) ++count[static_cast<std::size_t>(y(i))];
  for (std::size_t c = 0; c < K; ++c)
    if (count[c] == 1)
      detail::fail(where, "class " + std::to_string(c) +
                              " has only 1 sample; stratifying needs at least 2 of every class present");

  // Per-class test quota: floor of the exact share, then the leftover seats go to the classes
  // with the largest fractional parts (ties: the larger class, then the smaller class index), so
  // the quotas sum to n_test exactly.
  std::vector<Index> quota(K, 0);
  std::vector<double> remainder(K, 0.0);
  Index assigned = 0;
  for (std::size_t c = 0; c < K; ++c) {
    const double exact = static_cast<double>(count[c]) * static_cast<double>(n_test) / static_cast<double>(n);
    quota[c] = static_cast<Index>(std::floor(exact));
    remainder[c] = exact - static_cast<double>(quota[c]);
    assigned += quota[c];
  }
  for (; assigned < n_test; ++assigned) {
    std::size_t best = K;
    for (std::size_t c = 0; c < K; ++c) {
      if (quota[c] >= count[c]) continue;
      if (best == K || remainder[c] > remainder[best] ||
          (remainder[c] == remainder[best] && count[c] > count[best]))
        best = c;
    }
    ++quota[best];
    remainder[best] = -1.0;  // one extra seat per class at most
  }

  // Walk one random permutation: each class's first `quota` members go to test. This picks a
  // uniform random subset per class and leaves both parts in shuffled (not class-sorted) order.
  Rng rng(options.seed);
  rng.shuffle(order.begin(), order.end());
  std::vector<Index> taken(K, 0);
  for (Index i : order) {
    const auto c = static_cast<std::size_t>(y(i));
    if (taken[c] < quota[c]) {
      ++taken[c];
      out.test.push_back(i);
    } else {
      out.train.push_back(i);
    }
  }
  return out;
}

/// The rows `idx` of `X`, in that order: `out.row(k) = X.row(idx[k])`. Works for matrices
/// (returns a row-major `Matrix`) and for columns such as `Vector<T>` or `Labels` (returns a column
/// of the same scalar). Throws if an index is outside `0..X.rows()-1`.
template <class Derived>
auto take_rows(const Eigen::DenseBase<Derived>& X, const std::vector<Index>& idx) {
  using S = typename Derived::Scalar;
  constexpr bool is_column = Derived::ColsAtCompileTime == 1;
  using Out = std::conditional_t<is_column, Eigen::Matrix<S, Eigen::Dynamic, 1>, Matrix<S>>;
  for (std::size_t k = 0; k < idx.size(); ++k)
    if (idx[k] < 0 || idx[k] >= X.rows())
      detail::fail("take_rows", "index " + std::to_string(idx[k]) + " at position " + std::to_string(k) +
                                    " is outside 0.." + std::to_string(X.rows() - 1));
  Out out(static_cast<Index>(idx.size()), X.cols());
  for (std::size_t k = 0; k < idx.size(); ++k) out.row(static_cast<Index>(k)) = X.row(idx[k]);
  return out;
}

/// The four parts of a split data set, in scikit-learn's order.
template <class XOut, class YOut>
struct SplitData {
  XOut X_train;
  XOut X_test;
  YOut y_train;
  YOut y_test;
};

/// Split the rows of `X` and `y` (targets or labels, one per row) together:
/// `auto [X_train, X_test, y_train, y_test] = train_test_split(X, y, {.test_size = 0.2, .stratify = &y});`
template <class DX, class DY>
auto train_test_split(const Eigen::DenseBase<DX>& X, const Eigen::DenseBase<DY>& y, const SplitOptions& options = {}) {
  detail::check_rows("train_test_split", "X", X.rows(), "y", y.rows());
  const SplitIndices idx = train_test_split(X.rows(), options);
  using XOut = decltype(take_rows(X, idx.train));
  using YOut = decltype(take_rows(y, idx.train));
  return SplitData<XOut, YOut>{take_rows(X, idx.train), take_rows(X, idx.test), take_rows(y, idx.train),
                               take_rows(y, idx.test)};
}

}  // namespace eigenml::preprocessing
