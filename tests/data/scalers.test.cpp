#include <catch2/catch.hpp>

#include <eigenml/preprocessing.hpp>
#include <eigenml/random.hpp>

#include <limits>

using namespace eigenml;
using namespace eigenml::preprocessing;

// Reference numbers: tests/reference/data_scalers.py (scikit-learn 1.2.1).

namespace {

template <class T>
Matrix<T> train_data() {
  Matrix<T> X(5, 4);
  X << 1.0, -2.0, 3.0, 1000.1,  //
      2.0, 0.5, 3.0, 1000.3,     //
      4.0, 1.5, 3.0, 1000.2,     //
      -1.0, 2.0, 3.0, 1000.6,    //
      0.5, -0.5, 3.0, 1000.4;
  return X;
}

template <class T>
Matrix<T> test_data() {
  Matrix<T> X(2, 4);
  X << 0.0, 1.0, 4.0, 1001.0, 3.0, -3.0, 2.0, 999.0;
  return X;
}

template <class T>
Matrix<T> rows(std::initializer_list<std::initializer_list<double>> v) {
  Matrix<T> m(static_cast<Index>(v.size()), static_cast<Index>(v.begin()->size()));
  Index i = 0;
  for (const auto& r : v) {
    Index j = 0;
    for (double x : r) m(i, j++) = static_cast<T>(x);
    ++i;
  }
  return m;
}

}  // namespace

TEMPLATE_TEST_CASE("StandardScaler matches scikit-learn, constant features keep scale 1", "[data][scalers]", float,
                   double) {
  using T = TestType;
  // float: feature 3 has mean ~1000 and std ~0.17, so its z-scores carry ~1e-4 relative error.
  const double tol = std::is_same_v<T, float> ? 2e-4 : 1e-9;
  const double margin = std::is_same_v<T, float> ? 1e-6 : 1e-12;  // for values near 0
  StandardScaler<T> s;
  CHECK(!s.fitted());
  s.fit(train_data<T>());
  REQUIRE(s.n_features() == 4);
  const Matrix<T> mean = rows<T>({{1.3, 0.3, 3.0, 1000.32}});
  const Matrix<T> scale = rows<T>({{1.661324772583615, 1.4352700094407325, 1.0, 0.1720465053408467}});
  for (Index j = 0; j < 4; ++j) {
    CHECK(s.mean()(j) == Approx(mean(0, j)).epsilon(1e-6));
    CHECK(s.scale()(j) == Approx(scale(0, j)).epsilon(tol));
  }
  CHECK(s.var()(2) == 0);
  CHECK(s.scale()(2) == 1);  // constant: not divided by 0
  const Matrix<T> expected = rows<T>({{-0.7825080450574997, 0.4877131100041323, 1.0, 3.9524197172896987},
                                      {1.0232797512290381, -2.299218947162338, -1.0, -7.672344157092623}});
  const Matrix<T> Z = s.transform(test_data<T>());
  for (Index i = 0; i < 2; ++i)
    for (Index j = 0; j < 4; ++j) CHECK(Z(i, j) == Approx(expected(i, j)).epsilon(tol).margin(margin));

  // On the training data: mean 0, population std 1 (constant column: all 0).
  const Matrix<T> Zt = s.fit_transform(train_data<T>());
  for (Index j = 0; j < 4; ++j) {
    CHECK(Zt.col(j).mean() == Approx(0).margin(std::is_same_v<T, float> ? tol : 1e-11));
    const double var = static_cast<double>(Zt.col(j).squaredNorm()) / 5.0;
    CHECK(var == Approx(j == 2 ? 0.0 : 1.0).epsilon(tol).margin(margin));
  }

  StandardScaler<T> no_mean({.with_mean = false});
  const Matrix<T> Zm = no_mean.fit(train_data<T>()).transform(test_data<T>());
  const Matrix<T> expected_m = rows<T>({{0.0, 0.6967330142916176, 4.0, 5818.194319128353},
                                        {1.8057877962865378, -2.0901990428748527, 2.0, 5806.56955525397}});
  for (Index i = 0; i < 2; ++i)
    for (Index j = 0; j < 4; ++j) CHECK(Zm(i, j) == Approx(expected_m(i, j)).epsilon(tol).margin(margin));

  StandardScaler<T> no_std({.with_mean = true, .with_std = false});
  no_std.fit(train_data<T>());
  CHECK(no_std.scale() == Vector<T>::Ones(4));
  CHECK(no_std.transform(test_data<T>())(0, 0) == Approx(-1.3).epsilon(1e-6));
  CHECK(no_std.options().with_std == false);
}

TEMPLATE_TEST_CASE("scalers' inverse_transform undoes transform", "[data][scalers]", float, double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  Rng rng(11);
  Matrix<T> X = random_normal<T>(20, 5, rng, 3.0, 2.0);
  X.col(4).setConstant(T(-7));  // a constant column round-trips too
  StandardScaler<T> s;
  const Matrix<T> Z = s.fit_transform(X);
  CHECK((s.inverse_transform(Z) - X).cwiseAbs().maxCoeff() <= tol * 10 * (1 + X.cwiseAbs().maxCoeff()));
  MinMaxScaler<T> m({.feature_range = {-2.0, 3.0}});
  const Matrix<T> M = m.fit_transform(X);
  CHECK((m.inverse_transform(M) - X).cwiseAbs().maxCoeff() <= tol * 10 * (1 + X.cwiseAbs().maxCoeff()));
  CHECK(M.colwise().minCoeff().head(4).isApprox(Matrix<T>::Constant(1, 4, T(-2))));
  CHECK(M.colwise().maxCoeff().head(4).isApprox(Matrix<T>::Constant(1, 4, T(3))));
  CHECK((M.col(4).array() == T(-2)).all());  // constant feature -> the range minimum
}

TEMPLATE_TEST_CASE("MinMaxScaler matches scikit-learn", "[data][scalers]", float, double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-9;
  MinMaxScaler<T> m({.feature_range = {-1.0, 2.0}});
  m.fit(train_data<T>());
  const Matrix<T> scale = rows<T>({{0.6, 0.75, 3.0, 6.0}});
  const Matrix<T> min = rows<T>({{-0.4, 0.5, -10.0, -6001.6}});
  for (Index j = 0; j < 4; ++j) {
    CHECK(m.scale()(j) == Approx(scale(0, j)).epsilon(tol));
    CHECK(m.min()(j) == Approx(min(0, j)).epsilon(tol));
  }
  CHECK(m.data_min()(0) == T(-1));
  CHECK(m.data_max()(0) == T(4));
  const Matrix<T> expected = rows<T>({{-0.4, 1.25, 2.0, 4.399999999999636}, {1.4, -1.75, -4.0, -7.600000000000364}});
  const Matrix<T> Z = m.transform(test_data<T>());
  // float: feature 3's offset -6001.6 is stored to ~4e-4 absolute; in double x * 6 - 6001.6
  // cancels to ~1e-12 absolute.
  const bool is_float = std::is_same_v<T, float>;
  for (Index i = 0; i < 2; ++i)
    for (Index j = 0; j < 4; ++j)
      CHECK(Z(i, j) == Approx(expected(i, j)).epsilon(tol).margin(j == 3 ? (is_float ? 2e-3 : 1e-11) : (is_float ? 1e-6 : 1e-14)));
  MinMaxScaler<T> clipped({.feature_range = {-1.0, 2.0}, .clip = true});
  const Matrix<T> C = clipped.fit(train_data<T>()).transform(test_data<T>());
  CHECK(C.maxCoeff() == T(2));
  CHECK(C.minCoeff() == T(-1));
}

TEST_CASE("scalers reject bad input naming the problem", "[data][scalers]") {
  StandardScaler<double> s;
  MinMaxScaler<double> m;
  Matrix<double> X = train_data<double>();
  CHECK_THROWS_WITH(s.transform(X), Catch::Contains("StandardScaler::transform: the scaler is not fitted"));
  CHECK_THROWS_WITH(m.inverse_transform(X), Catch::Contains("not fitted"));
  CHECK_THROWS_WITH(s.fit(Matrix<double>(0, 3)), Catch::Contains("X is empty"));
  CHECK_THROWS_WITH(m.fit(Matrix<double>(0, 3)), Catch::Contains("X is empty"));
  s.fit(X);
  m.fit(X);
  const Matrix<double> wrong(2, 3);
  CHECK_THROWS_WITH(s.transform(wrong), Catch::Contains("X has shape 2x3, expected 4 columns (N x 4)"));
  CHECK_THROWS_WITH(s.inverse_transform(wrong), Catch::Contains("expected 4 columns"));
  CHECK_THROWS_WITH(m.transform(wrong), Catch::Contains("X has shape 2x3, expected 4 columns"));
  X(2, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(s.fit(X), Catch::Contains("X contains NaN at row 2, column 1"));
  CHECK_THROWS_WITH(s.transform(X), Catch::Contains("NaN"));
  CHECK_THROWS_WITH(m.fit(X), Catch::Contains("NaN"));
  CHECK_THROWS_WITH(MinMaxScaler<double>({.feature_range = {1.0, 1.0}}), Catch::Contains("feature_range"));
  CHECK_THROWS_WITH(MinMaxScaler<float>({.feature_range = {2.0, -1.0}}), Catch::Contains("feature_range"));
}

TEMPLATE_TEST_CASE("one_hot encodes labels as indicator rows", "[data][one_hot]", float, double) {
  using T = TestType;
  Labels y(4);
  y << 2, 0, 1, 2;
  const Matrix<T> H = one_hot<T>(y);
  REQUIRE(H.rows() == 4);
  REQUIRE(H.cols() == 3);
  CHECK(H == rows<T>({{0, 0, 1}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}}));
  CHECK(one_hot<T>(y, 5).cols() == 5);
  CHECK(one_hot<T>(y, 5).rowwise().sum() == Vector<T>::Ones(4));
  CHECK_THROWS_WITH(one_hot<T>(y, 2), Catch::Contains("label 2 at row 0 is outside 0..1"));
  CHECK_THROWS_WITH(one_hot<T>(y, 0), Catch::Contains("num_classes"));
  CHECK_THROWS_WITH(one_hot<T>(Labels(0)), Catch::Contains("empty"));
  y(1) = -1;
  CHECK_THROWS_WITH(one_hot<T>(y), Catch::Contains("label -1 at row 1"));
}
