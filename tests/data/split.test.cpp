#include <catch2/catch.hpp>

#include <eigenml/preprocessing.hpp>

#include <algorithm>
#include <vector>

using namespace eigenml;
using namespace eigenml::preprocessing;

namespace {

std::vector<Index> sorted(std::vector<Index> v) {
  std::sort(v.begin(), v.end());
  return v;
}

/// Train and test are disjoint and together exactly 0..n-1.
void check_partition(const SplitIndices& s, Index n) {
  std::vector<Index> all = s.train;
  all.insert(all.end(), s.test.begin(), s.test.end());
  all = sorted(all);
  REQUIRE(static_cast<Index>(all.size()) == n);
  for (Index i = 0; i < n; ++i) REQUIRE(all[static_cast<std::size_t>(i)] == i);
}

}  // namespace

TEST_CASE("train_test_split partitions 0..n-1 with ceil(test_size * n) test samples", "[data][split]") {
  for (Index n : {2, 3, 10, 101}) {
    for (double ts : {0.1, 0.25, 0.5, 0.9}) {
      const auto n_test = static_cast<Index>(std::ceil(ts * static_cast<double>(n)));
      if (n_test >= n) continue;
      auto [train, test] = train_test_split(n, {.test_size = ts, .seed = 7});
      CHECK(static_cast<Index>(test.size()) == n_test);
      check_partition({train, test}, n);
    }
  }
  // 10 samples, 0.25 -> 3 in test (scikit-learn rounds the test part up)
  CHECK(train_test_split(10, {.test_size = 0.25}).test.size() == 3);
}

TEST_CASE("train_test_split is seed-deterministic and the seed matters", "[data][split]") {
  const auto a = train_test_split(50, {.test_size = 0.2, .seed = 3});
  const auto b = train_test_split(50, {.test_size = 0.2, .seed = 3});
  const auto c = train_test_split(50, {.test_size = 0.2, .seed = 4});
  CHECK(a.train == b.train);
  CHECK(a.test == b.test);
  CHECK(a.test != c.test);
  // shuffled: the test part is not simply the last 10 samples
  CHECK(sorted(a.test) != std::vector<Index>{40, 41, 42, 43, 44, 45, 46, 47, 48, 49});
}

TEST_CASE("train_test_split without shuffle keeps the order: first train, last test", "[data][split]") {
  auto [train, test] = train_test_split(5, {.test_size = 0.4, .shuffle = false});
  CHECK(train == std::vector<Index>{0, 1, 2});
  CHECK(test == std::vector<Index>{3, 4});
}

TEST_CASE("stratified train_test_split keeps class proportions", "[data][split]") {
  // 60 of class 0, 30 of class 1, 10 of class 2, grouped (a plain split could easily skew them)
  Labels y(100);
  for (Index i = 0; i < 100; ++i) y(i) = i < 60 ? 0 : (i < 90 ? 1 : 2);
  for (std::uint64_t seed : {0u, 1u, 2u}) {
    const auto s = train_test_split(100, {.test_size = 0.2, .seed = seed, .stratify = &y});
    check_partition(s, 100);
    std::vector<int> test_count(3, 0), train_count(3, 0);
    for (Index i : s.test) ++test_count[static_cast<std::size_t>(y(i))];
    for (Index i : s.train) ++train_count[static_cast<std::size_t>(y(i))];
    CHECK(test_count == std::vector<int>{12, 6, 2});
    CHECK(train_count == std::vector<int>{48, 24, 8});
    const auto again = train_test_split(100, {.test_size = 0.2, .seed = seed, .stratify = &y});
    CHECK(again.test == s.test);
    CHECK(again.train == s.train);
  }
  // Unequal shares: 7 of class 0, 3 of class 1, 30% test = 3 seats; exact shares 2.1 and 0.9.
  Labels z(10);
  z << 0, 0, 0, 0, 0, 0, 0, 1, 1, 1;
  const auto s = train_test_split(10, {.test_size = 0.3, .seed = 1, .stratify = &z});
  REQUIRE(s.test.size() == 3);
  Index ones = 0;
  for (Index i : s.test) ones += z(i);
  CHECK(ones == 1);
  // The stratified split shuffles within the parts too (not class-sorted).
  const auto big = train_test_split(100, {.test_size = 0.5, .seed = 0, .stratify = &y});
  CHECK(!std::is_sorted(big.train.begin(), big.train.end()));
}

TEST_CASE("take_rows and the all-at-once split gather matching rows", "[data][split]") {
  Matrix<float> X(6, 2);
  Vector<float> t(6);
  Labels y(6);
  for (Index i = 0; i < 6; ++i) {
    X(i, 0) = static_cast<float>(i);
    X(i, 1) = static_cast<float>(10 * i);
    t(i) = static_cast<float>(100 * i);
    y(i) = static_cast<int>(i % 2);
  }
  const Matrix<float> R = take_rows(X, {4, 1, 1});
  REQUIRE(R.rows() == 3);
  CHECK(R(0, 1) == 40.0f);
  CHECK(R(2, 0) == 1.0f);
  const Labels ly = take_rows(y, {5, 0});
  CHECK(ly(0) == 1);
  CHECK(ly(1) == 0);
  CHECK_THROWS_WITH(take_rows(X, {0, 6}), Catch::Contains("index 6 at position 1 is outside 0..5"));
  CHECK_THROWS_AS(take_rows(X, {-1}), std::invalid_argument);

  auto [X_train, X_test, t_train, t_test] = train_test_split(X, t, {.test_size = 0.5, .seed = 9});
  static_assert(std::is_same_v<decltype(X_train), Matrix<float>>);
  static_assert(std::is_same_v<decltype(t_test), Vector<float>>);
  REQUIRE(X_train.rows() == 3);
  REQUIRE(X_test.rows() == 3);
  for (Index i = 0; i < 3; ++i) {
    CHECK(t_train(i) == 100 * X_train(i, 0));
    CHECK(t_test(i) == 100 * X_test(i, 0));
  }
  auto [A, B, ya, yb] = train_test_split(X, y, {.test_size = 0.5, .seed = 1, .stratify = &y});
  CHECK(ya.sum() + yb.sum() == 3);
  CHECK(yb.sum() == 1);  // 3 seats, shares 1.5 / 1.5 -> tie broken by class index, class 0 gets 2
  CHECK(A.rows() == 3);
  CHECK(B.rows() == 3);
}

TEST_CASE("train_test_split rejects bad input naming the problem", "[data][split]") {
  Labels y(4);
  y << 0, 0, 1, 1;
  CHECK_THROWS_WITH(train_test_split(1), Catch::Contains("at least 2 samples"));
  CHECK_THROWS_WITH(train_test_split(10, {.test_size = 0.0}), Catch::Contains("test_size"));
  CHECK_THROWS_WITH(train_test_split(10, {.test_size = 1.0}), Catch::Contains("test_size"));
  CHECK_THROWS_WITH(train_test_split(10, {.test_size = 0.95}), Catch::Contains("no training sample"));
  CHECK_THROWS_WITH((train_test_split(5, {.test_size = 0.5, .seed = 0, .stratify = &y})),
                    Catch::Contains("stratify labels has 4 rows but n has 5"));
  Labels single(4);
  single << 0, 0, 0, 1;
  CHECK_THROWS_WITH((train_test_split(4, {.test_size = 0.5, .seed = 0, .stratify = &single})),
                    Catch::Contains("class 1 has only 1 sample"));
  Labels negative(4);
  negative << 0, -1, 0, -1;
  CHECK_THROWS_WITH((train_test_split(4, {.test_size = 0.5, .seed = 0, .stratify = &negative})),
                    Catch::Contains(">= 0"));
  CHECK_THROWS_WITH((train_test_split(4, {.test_size = 0.5, .seed = 0, .stratify = &y, .shuffle = false})),
                    Catch::Contains("shuffle"));
  Matrix<double> X(3, 2);
  X.setZero();
  CHECK_THROWS_WITH(train_test_split(X, y), Catch::Contains("X has 3 rows but y has 4"));
}
