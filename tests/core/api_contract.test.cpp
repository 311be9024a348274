// The public contract, section by section as /work/shared/API.md writes it.
//
// Part 1: every construct compiles exactly as API.md spells it (designated initializers in the
// listed field order, default constructors, chained calls, any dense Eigen expression as data),
// for float and double, through the one umbrella header.
// Part 2: the meanings API.md states, checked against small references computed here by hand
// (closed-form ridge solve, hand-written gradient steps, hand-written recurrent cells, a
// hand-written safetensors file), so that each check can fail.

#include <catch2/catch.hpp>

#include <eigenml/eigenml.hpp>  // the one header the contract promises

#include <Eigen/Dense>  // the test's own reference solves (LU)

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace {

using eigenml::Index;
using eigenml::Labels;
using eigenml::Matrix;
using eigenml::Vector;
using MatD = Eigen::MatrixXd;
using VecD = Eigen::VectorXd;

// Tolerance for comparing library results in T against references computed in double.
template <class T>
double tol() {
  return std::is_same_v<T, double> ? 1e-10 : 2e-5;
}

double max_abs_diff(const MatD& a, const MatD& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return a.size() == 0 ? 0.0 : (a - b).cwiseAbs().maxCoeff();
}

template <class D>
MatD to_d(const Eigen::MatrixBase<D>& m) {
  return m.template cast<double>();
}

// A deterministic, well-conditioned n x d design (no Rng: the references must not depend on it).
template <class T>
Matrix<T> design(Index n, Index d, double phase = 0.0) {
  Matrix<T> X(n, d);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < d; ++j)
      // A different frequency per column keeps X of full column rank.
      X(i, j) = static_cast<T>(std::sin((0.9 + 0.37 * double(j)) * double(i) + 1.7 * double(j) + phase) + 0.1 * double(j));
  return X;
}

template <class T>
Vector<T> regression_target(const Matrix<T>& X) {
  Vector<T> y(X.rows());
  for (Index i = 0; i < X.rows(); ++i) {
    double v = 0.5 + 0.1 * std::cos(2.1 * double(i));
    for (Index j = 0; j < X.cols(); ++j) v += (1.0 + 0.5 * double(j)) * static_cast<double>(X(i, j));
    y(i) = static_cast<T>(v);
  }
  return y;
}

// Labels in 0..K-1 that no linear model separates: rows 0..K-1 are the same point with every label.
template <class T>
Labels class_labels(Matrix<T>& X, int K) {
  Labels y(X.rows());
  for (Index i = 0; i < X.rows(); ++i) {
    const double s = static_cast<double>(X(i, 0)) + 0.8 * std::sin(3.1 * double(i));
    y(i) = K == 2 ? (s > 0 ? 1 : 0) : static_cast<int>((i * 7 + (s > 0 ? 1 : 0)) % K);
  }
  for (int k = 0; k < K; ++k) {
    X.row(k) = X.row(0);
    y(k) = k;
  }
  return y;
}

std::filesystem::path temp_file(const std::string& tag) {
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  return std::filesystem::temp_directory_path() /
         ("eigenml_api_contract_" + tag + "_" + std::to_string(stamp) + ".safetensors");
}

// ---- hand references: linear models ----------------------------------------------------------

// SGD (no momentum) on the ridge objective scaled by 1/n, from zero, batches in row order:
// step on batch B (m rows): grad_w = (2/m) X_B^T r + (2 alpha / n) w, grad_b = (2/m) sum r.
void ridge_sgd_reference(const MatD& X, const VecD& y, double alpha, bool fit_intercept, double lr, int epochs,
                         Index batch, VecD& w, double& b) {
  const Index n = X.rows();
  w = VecD::Zero(X.cols());
  b = 0.0;
  const Index B = batch == 0 ? n : batch;
  for (int e = 0; e < epochs; ++e)
    for (Index s = 0; s < n; s += B) {
      const Index m = std::min(B, n - s);
      const VecD r = X.middleRows(s, m) * w + VecD::Constant(m, b) - y.segment(s, m);
      const VecD gw = (2.0 / double(m)) * X.middleRows(s, m).transpose() * r + (2.0 * alpha / double(n)) * w;
      const double gb = fit_intercept ? 2.0 * r.sum() / double(m) : 0.0;
      w -= lr * gw;
      b -= lr * gb;
    }
}

// Gradient of F_B = mean_{i in B} loss_i + ||W||^2 * pen / 2 (pen = 1/(C n)), binary (W: 1 x d,
// sigmoid) or multinomial (W: K x d, softmax).
void logistic_gradient(const MatD& X, const Labels& y, int K, const MatD& W, const VecD& b, double pen, MatD& gW,
                       VecD& gb) {
  const Index m = X.rows();
  MatD Z = X * W.transpose();
  Z.rowwise() += b.transpose();
  MatD R(m, Z.cols());
  if (K == 2) {
    for (Index i = 0; i < m; ++i) R(i, 0) = 1.0 / (1.0 + std::exp(-Z(i, 0))) - (y(i) == 1 ? 1.0 : 0.0);
  } else {
    for (Index i = 0; i < m; ++i) {
      const double mx = Z.row(i).maxCoeff();
      const Eigen::RowVectorXd e = (Z.row(i).array() - mx).exp().matrix();
      R.row(i) = e / e.sum();
      R(i, y(i)) -= 1.0;
    }
  }
  gW = R.transpose() * X / double(m) + pen * W;
  gb = R.transpose() * VecD::Ones(m) / double(m);
}

void logistic_sgd_reference(const MatD& X, const Labels& y, int K, double C, double lr, int epochs, Index batch,
                            MatD& W, VecD& b) {
  const Index n = X.rows(), Kr = K == 2 ? 1 : K;
  W = MatD::Zero(Kr, X.cols());
  b = VecD::Zero(Kr);
  const double pen = std::isinf(C) ? 0.0 : 1.0 / (C * double(n));
  const Index B = batch == 0 ? n : batch;
  MatD gW;
  VecD gb;
  for (int e = 0; e < epochs; ++e)
    for (Index s = 0; s < n; s += B) {
      const Index m = std::min(B, n - s);
      logistic_gradient(X.middleRows(s, m), y.segment(s, m), K, W, b, pen, gW, gb);
      W -= lr * gW;
      b -= lr * gb;
    }
}

// ---- hand references: recurrent cells (x: one sample, T*F values, step after step) -----------

double sig(double z) { return 1.0 / (1.0 + std::exp(-z)); }

template <class T>
void set_params_by_formula(const std::vector<eigenml::Parameter<T>*>& ps, double scale) {
  int k = 0;
  for (auto* p : ps) {
    for (Index i = 0; i < p->value.rows(); ++i)
      for (Index j = 0; j < p->value.cols(); ++j)
        p->value(i, j) = static_cast<T>(scale * std::sin(1.3 * double(i) + 0.77 * double(j) + 2.1 * double(k)));
    ++k;
  }
}

// Returns all hidden states, T*H values, step after step. Kind: 1 RNN, 4 LSTM, 3 GRU.
VecD recurrent_reference(int gates, const VecD& x, Index F, Index H, Index Tn, const MatD& Wih, const MatD& Whh,
                         const VecD& bih, const VecD& bhh) {
  VecD out(Tn * H), h = VecD::Zero(H), c = VecD::Zero(H);
  for (Index t = 0; t < Tn; ++t) {
    const VecD xt = x.segment(t * F, F);
    const VecD gi = Wih * xt + bih, gh = Whh * h + bhh;
    if (gates == 1) {
      h = (gi + gh).array().tanh().matrix();
    } else if (gates == 4) {  // i, f, g, o
      VecD a = gi + gh;
      for (Index u = 0; u < H; ++u) {
        const double i = sig(a(u)), f = sig(a(H + u)), g = std::tanh(a(2 * H + u)), o = sig(a(3 * H + u));
        c(u) = f * c(u) + i * g;
        h(u) = o * std::tanh(c(u));
      }
    } else {  // r, z, n
      VecD hn(H);
      for (Index u = 0; u < H; ++u) {
        const double r = sig(gi(u) + gh(u)), z = sig(gi(H + u) + gh(H + u));
        const double nn = std::tanh(gi(2 * H + u) + r * gh(2 * H + u));
        hn(u) = (1 - z) * nn + z * h(u);
      }
      h = hn;
    }
    out.segment(t * H, H) = h;
  }
  return out;
}

// ---- hand references: pooling (C order, zero/-inf padding) ------------------------------------

MatD pool_reference(bool is_max, const MatD& X, int C, int H, int W, int k, int s, int p) {
  const int Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;
  MatD Y(X.rows(), C * Ho * Wo);
  for (Index n = 0; n < X.rows(); ++n)
    for (int c = 0; c < C; ++c)
      for (int oy = 0; oy < Ho; ++oy)
        for (int ox = 0; ox < Wo; ++ox) {
          double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
          for (int i = 0; i < k; ++i)
            for (int j = 0; j < k; ++j) {
              const int yy = oy * s - p + i, xx = ox * s - p + j;
              if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;  // padding: never the max, zero in the sum
              const double v = X(n, c * H * W + yy * W + xx);
              acc = is_max ? std::max(acc, v) : acc + v;
            }
          Y(n, c * Ho * Wo + oy * Wo + ox) = is_max ? acc : acc / double(k * k);
        }
  return Y;
}

// ---- a tensors-only safetensors file written by hand (as PyTorch's save_file writes it) -------

template <class S>
void write_tensors_only(const std::filesystem::path& path, const MatD& W, const VecD& b) {
  const char* dtype = std::is_same_v<S, float> ? "F32" : "F64";
  const std::size_t nw = static_cast<std::size_t>(W.size()) * sizeof(S), nb = static_cast<std::size_t>(b.size()) * sizeof(S);
  const std::string header = std::string("{\"0.weight\":{\"dtype\":\"") + dtype + "\",\"shape\":[" +
                             std::to_string(W.rows()) + "," + std::to_string(W.cols()) + "],\"data_offsets\":[0," +
                             std::to_string(nw) + "]},\"0.bias\":{\"dtype\":\"" + dtype + "\",\"shape\":[" +
                             std::to_string(b.size()) + "],\"data_offsets\":[" + std::to_string(nw) + "," +
                             std::to_string(nw + nb) + "]}}";
  std::vector<S> data;
  for (Index i = 0; i < W.rows(); ++i)
    for (Index j = 0; j < W.cols(); ++j) data.push_back(static_cast<S>(W(i, j)));  // C order: [out][in]
  for (Index i = 0; i < b.size(); ++i) data.push_back(static_cast<S>(b(i)));
  std::ofstream out(path, std::ios::binary);
  std::uint64_t len = header.size();
  unsigned char le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>((len >> (8 * i)) & 0xffu);
  out.write(reinterpret_cast<const char*>(le), 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * sizeof(S)));
}

// The header of a safetensors file as a string (to check tensor names and shapes).
std::string read_header(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char le[8];
  in.read(reinterpret_cast<char*>(le), 8);
  std::uint64_t len = 0;
  for (int i = 7; i >= 0; --i) len = (len << 8) | le[i];
  std::string header(static_cast<std::size_t>(len), '\0');
  in.read(header.data(), static_cast<std::streamsize>(len));
  return header;
}

}  // namespace

namespace em = eigenml;

// =================================================================================================
// Data
// =================================================================================================

TEMPLATE_TEST_CASE("API.md Data: Matrix, Vector, Labels", "[api][data]", float, double) {
  using T = TestType;
  static_assert(std::is_base_of_v<Eigen::MatrixBase<em::Matrix<T>>, em::Matrix<T>>);
  static_assert(em::Matrix<T>::RowsAtCompileTime == Eigen::Dynamic && em::Matrix<T>::ColsAtCompileTime == Eigen::Dynamic);
  static_assert(std::is_same_v<typename em::Matrix<T>::Scalar, T>);
  static_assert(std::is_same_v<em::Vector<T>, Eigen::Matrix<T, Eigen::Dynamic, 1>>);
  static_assert(std::is_same_v<em::Labels, Eigen::VectorXi>);
  static_assert(std::is_same_v<decltype(em::Parameter<T>{}.value), em::Matrix<T>>);
  static_assert(std::is_same_v<decltype(em::Parameter<T>{}.grad), em::Matrix<T>>);

  em::TrainOptions o{.epochs = 3, .batch_size = 0, .shuffle = false, .seed = 42};
  CHECK(o.epochs == 3);
  CHECK(o.batch_size == 0);
  CHECK_FALSE(o.shuffle);
  CHECK(o.seed == 42u);

  em::Parameter<T> p;
  p.value = em::Matrix<T>::Ones(2, 3);
  p.grad = em::Matrix<T>::Zero(2, 3);
  CHECK(p.value.rows() == p.grad.rows());
}

// =================================================================================================
// Linear models
// =================================================================================================

TEMPLATE_TEST_CASE("API.md LinearRegression: construction, chaining, expressions", "[api][linear]", float, double) {
  using T = TestType;
  const em::Matrix<T> X = design<T>(24, 3);
  const em::Vector<T> y = regression_target(X);

  em::LinearRegression<T> m({.fit_intercept = true, .alpha = 0});
  em::LinearRegression<T> d;  // default-constructible with the defaults shown
  CHECK(&m.fit(X, y) == &m);
  const em::Vector<T> pred = d.fit(X, y).predict(X);
  static_assert(std::is_same_v<decltype(m.predict(X)), em::Vector<T>>);
  static_assert(std::is_same_v<decltype(m.coef()), em::Vector<T>>);
  static_assert(std::is_same_v<decltype(m.intercept()), T>);
  CHECK(pred.size() == 24);
  CHECK(max_abs_diff(to_d(pred), to_d(m.predict(X))) < 1e3 * tol<T>());  // default is fit_intercept = true, alpha = 0

  // Any dense expression: blocks, scaled matrices, a column-major Eigen matrix.
  CHECK(m.fit(X.topRows(10), y.head(10)).predict(X.topRows(4)).size() == 4);
  m.fit(T(2) * X, y);
  const em::Vector<T> w2 = m.coef();
  m.fit(X, y);
  CHECK(max_abs_diff(to_d(w2) * 2.0, to_d(m.coef())) < 1e4 * tol<T>());
  const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> Xc = X;  // column-major
  m.fit(Xc, y);
  CHECK(max_abs_diff(to_d(m.predict(Xc)), to_d(m.predict(X))) < 1e3 * tol<T>());
  if constexpr (std::is_same_v<T, double>) {
    const Eigen::MatrixXd Xd = X;
    const Eigen::VectorXd yd = y;
    CHECK(m.fit(Xd, yd).predict(Xd).size() == 24);
  }

  // Iterative fit with a named optimizer by non-const reference.
  em::optim::SGD<T> opt({.lr = 0.05});
  em::TrainOptions options{.epochs = 2, .batch_size = 8, .shuffle = true, .seed = 1};
  CHECK(&m.fit(X, y, opt, options) == &m);
  CHECK(m.fit(X, y, opt, options).predict(X).size() == 24);
}

TEMPLATE_TEST_CASE("API.md LinearRegression: exact fit is the ridge minimiser with an unpenalised intercept",
                   "[api][linear]", float, double) {
  using T = TestType;
  const em::Matrix<T> X = design<T>(30, 4, 0.3);
  const em::Vector<T> y = regression_target(X);
  for (const double alpha : {0.0, 0.7, 25.0}) {
    for (const bool fi : {true, false}) {
      // Closed form written here: normal equations of [X 1] with diag(alpha, ..., alpha, 0).
      const MatD Xd = to_d(X);
      const Index n = Xd.rows(), d = Xd.cols();
      MatD A(n, d + (fi ? 1 : 0));
      A.leftCols(d) = Xd;
      if (fi) A.col(d).setOnes();
      MatD M = A.transpose() * A;
      for (Index j = 0; j < d; ++j) M(j, j) += alpha;
      const VecD sol = M.fullPivLu().solve(A.transpose() * to_d(y));

      em::LinearRegression<T> m({.fit_intercept = fi, .alpha = alpha});
      m.fit(X, y);
      INFO("alpha = " << alpha << ", fit_intercept = " << fi);
      const double scale = 1.0 + sol.cwiseAbs().maxCoeff();
      CHECK(max_abs_diff(to_d(m.coef()), sol.head(d)) < (std::is_same_v<T, double> ? 1e-9 : 2e-4) * scale);
      CHECK(std::abs(double(m.intercept()) - (fi ? sol(d) : 0.0)) < (std::is_same_v<T, double> ? 1e-9 : 2e-4) * scale);
      // predict = X w + b
      const VecD p = Xd * to_d(m.coef()) + VecD::Constant(n, double(m.intercept()));
      CHECK(max_abs_diff(to_d(m.predict(X)), p) < 1e3 * tol<T>() * scale);
    }
  }
}

TEMPLATE_TEST_CASE("API.md LinearRegression: iterative fit = hand-computed SGD steps from zero", "[api][linear]",
                   float, double) {
  using T = TestType;
  const em::Matrix<T> X = design<T>(10, 3, 1.1);
  const em::Vector<T> y = regression_target(X);
  const MatD Xd = to_d(X);
  const VecD yd = to_d(y);
  const double lr = 0.05;
  struct Case {
    double alpha;
    bool fi;
    int epochs;
    int batch;
  };
  // batch 0: one epoch is one full-batch step; batch 4 with shuffle = false: steps on rows 0-3,
  // 4-7, 8-9, each the batch's mean loss + (alpha/n)||w||^2.
  for (const Case c : {Case{0.0, true, 1, 0}, Case{0.8, true, 1, 0}, Case{0.8, true, 3, 0}, Case{0.8, false, 2, 0},
                       Case{0.0, true, 1, 4}, Case{1.5, true, 2, 4}}) {
    INFO("alpha = " << c.alpha << ", fit_intercept = " << c.fi << ", epochs = " << c.epochs << ", batch = " << c.batch);
    VecD w;
    double b;
    ridge_sgd_reference(Xd, yd, c.alpha, c.fi, lr, c.epochs, c.batch, w, b);
    em::LinearRegression<T> m({.fit_intercept = c.fi, .alpha = c.alpha});
    m.fit(X, y);  // an exact fit first: the iterative fit must still start from zero
    em::optim::SGD<T> opt({.lr = lr});
    m.fit(X, y, opt, em::TrainOptions{.epochs = c.epochs, .batch_size = c.batch, .shuffle = false, .seed = 0});
    CHECK(max_abs_diff(to_d(m.coef()), w) < 10 * tol<T>());
    CHECK(std::abs(double(m.intercept()) - b) < 10 * tol<T>());
  }
}

TEMPLATE_TEST_CASE("API.md LinearRegression: bad input throws invalid_argument naming the problem", "[api][linear]",
                   float, double) {
  using T = TestType;
  const em::Matrix<T> X = design<T>(8, 2);
  em::Vector<T> y = regression_target(X);
  em::LinearRegression<T> m;
  CHECK_THROWS_AS(m.fit(X, y.head(7)), std::invalid_argument);
  CHECK_THROWS_WITH(m.fit(X, y.head(7)), Catch::Contains("X") && Catch::Contains("y"));
  em::Vector<T> ybad = y;
  ybad(3) = std::numeric_limits<T>::quiet_NaN();
  CHECK_THROWS_WITH(m.fit(X, ybad), Catch::Contains("NaN"));
  CHECK_THROWS_WITH(m.fit(em::Matrix<T>(0, 2), em::Vector<T>(0)), Catch::Contains("empty"));
  CHECK_THROWS_WITH((em::LinearRegression<T>({.fit_intercept = true, .alpha = -1})), Catch::Contains("alpha"));
  m.fit(X, y);
  CHECK_THROWS_AS(m.predict(design<T>(3, 5)), std::invalid_argument);
}

TEMPLATE_TEST_CASE("API.md LogisticRegression: binary model shapes and exact optimum", "[api][logistic]", float,
                   double) {
  using T = TestType;
  em::Matrix<T> X = design<T>(40, 3, 0.5);
  const Labels y = class_labels(X, 2);
  for (const double C : {1.0, 0.05, std::numeric_limits<double>::infinity()}) {
    INFO("C = " << C);
    em::LogisticRegression<T> c({.fit_intercept = true, .C = C});
    CHECK(&c.fit(X, y) == &c);
    const em::Matrix<T> P = c.predict_proba(X);
    static_assert(std::is_same_v<decltype(c.predict_proba(X)), em::Matrix<T>>);
    static_assert(std::is_same_v<decltype(c.predict(X)), Labels>);
    static_assert(std::is_same_v<decltype(c.coef()), em::Matrix<T>>);
    static_assert(std::is_same_v<decltype(c.intercept()), em::Vector<T>>);
    REQUIRE(P.rows() == 40);
    REQUIRE(P.cols() == 2);
    CHECK((P.rowwise().sum().array() - T(1)).abs().maxCoeff() < 10 * std::numeric_limits<T>::epsilon());
    CHECK(c.coef().rows() == 1);
    CHECK(c.coef().cols() == 3);
    CHECK(c.intercept().size() == 1);
    // P(1) = sigmoid(x.w + b); predict = argmax
    const MatD Z = to_d(X) * to_d(c.coef()).transpose() + MatD::Constant(40, 1, double(c.intercept()(0)));
    for (Index i = 0; i < 40; ++i) CHECK(std::abs(double(P(i, 1)) - sig(Z(i, 0))) < 1e2 * tol<T>());
    const Labels pred = c.predict(X);
    for (Index i = 0; i < 40; ++i)
      if (std::abs(Z(i, 0)) > 1e-3) CHECK(pred(i) == (Z(i, 0) > 0 ? 1 : 0));
    // The objective's gradient divided by C n, computed here, vanishes at the returned coefficients.
    MatD gW;
    VecD gb;
    logistic_gradient(to_d(X), y, 2, to_d(c.coef()), to_d(c.intercept()), std::isinf(C) ? 0.0 : 1.0 / (C * 40.0), gW,
                      gb);
    const double g = std::max(gW.cwiseAbs().maxCoeff(), gb.cwiseAbs().maxCoeff());
    CHECK(g < (std::is_same_v<T, double> ? 1e-9 : 1e-3));
  }
  em::LogisticRegression<T> dflt;  // default-constructible
  CHECK(dflt.fit(X, y).predict(X.topRows(5)).size() == 5);
  em::LogisticRegression<T> noC({.fit_intercept = false, .C = std::numeric_limits<T>::infinity()});
  noC.fit(T(2) * X, y);
  CHECK(noC.intercept().cwiseAbs().maxCoeff() == T(0));
  const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> Xc = X;  // column-major
  CHECK(noC.predict_proba(Xc).cols() == 2);
}

TEMPLATE_TEST_CASE("API.md LogisticRegression: multinomial model, K = max label + 1, centred intercepts",
                   "[api][logistic]", float, double) {
  using T = TestType;
  em::Matrix<T> X = design<T>(45, 3, 0.2);
  const Labels y = class_labels(X, 3);
  for (const double C : {1.0, 10.0}) {
    em::LogisticRegression<T> c({.fit_intercept = true, .C = C});
    c.fit(X, y);
    const em::Matrix<T> P = c.predict_proba(X);
    REQUIRE(P.cols() == 3);
    CHECK((P.rowwise().sum().array() - T(1)).abs().maxCoeff() < 10 * std::numeric_limits<T>::epsilon());
    CHECK(c.coef().rows() == 3);
    CHECK(c.coef().cols() == 3);
    REQUIRE(c.intercept().size() == 3);
    CHECK(std::abs(double(c.intercept().sum())) < 1e2 * tol<T>());
    MatD gW;
    VecD gb;
    logistic_gradient(to_d(X), y, 3, to_d(c.coef()), to_d(c.intercept()), 1.0 / (C * 45.0), gW, gb);
    CHECK(std::max(gW.cwiseAbs().maxCoeff(), gb.cwiseAbs().maxCoeff()) < (std::is_same_v<T, double> ? 1e-9 : 1e-3));
    const Labels pred = c.predict(X);
    for (Index i = 0; i < 45; ++i) {
      Index k;
      P.row(i).maxCoeff(&k);
      CHECK(pred(i) == int(k));
    }
  }
  // Labels 0, 1, 3 (2 never seen): K = 4.
  Labels y4 = y;
  for (Index i = 0; i < y4.size(); ++i)
    if (y4(i) == 2) y4(i) = 3;
  em::LogisticRegression<T> c4({.fit_intercept = true, .C = 1.0});
  c4.fit(X, y4);
  CHECK(c4.predict_proba(X).cols() == 4);
  CHECK(c4.coef().rows() == 4);
  CHECK(c4.intercept().size() == 4);
  CHECK(std::abs(double(c4.intercept().sum())) < 1e2 * tol<T>());
}

TEMPLATE_TEST_CASE("API.md LogisticRegression: iterative fit = hand-computed steps on F / (C n) from zero",
                   "[api][logistic]", float, double) {
  using T = TestType;
  const double lr = 0.5;
  struct Case {
    int K;
    double C;
    int epochs;
    int batch;
  };
  for (const Case cs : {Case{2, 1.0, 1, 0}, Case{2, 0.3, 3, 0}, Case{2, 0.3, 2, 4},
                        Case{3, 1.0, 1, 0}, Case{3, 0.5, 2, 0}, Case{3, 0.5, 2, 4},
                        Case{2, std::numeric_limits<double>::infinity(), 2, 4}}) {
    INFO("K = " << cs.K << ", C = " << cs.C << ", epochs = " << cs.epochs << ", batch = " << cs.batch);
    em::Matrix<T> X = design<T>(10, 3, 0.9);
    const Labels y = class_labels(X, cs.K);
    MatD W;
    VecD b;
    logistic_sgd_reference(to_d(X), y, cs.K, cs.C, lr, cs.epochs, cs.batch, W, b);
    if (cs.K > 2) b.array() -= b.mean();  // returned centred
    em::LogisticRegression<T> c({.fit_intercept = true, .C = cs.C});
    c.fit(X, y);  // an exact fit first: the iterative fit must still start from zero
    em::optim::SGD<T> opt({.lr = lr});
    c.fit(X, y, opt, em::TrainOptions{.epochs = cs.epochs, .batch_size = cs.batch, .shuffle = false, .seed = 0});
    CHECK(max_abs_diff(to_d(c.coef()), W) < 10 * tol<T>());
    CHECK(max_abs_diff(to_d(c.intercept()), b) < 10 * tol<T>());
  }
}

TEMPLATE_TEST_CASE("API.md LogisticRegression: bad input throws invalid_argument naming the problem",
                   "[api][logistic]", float, double) {
  using T = TestType;
  em::Matrix<T> X = design<T>(12, 2);
  Labels y = class_labels(X, 2);
  em::LogisticRegression<T> c;
  Labels neg = y;
  neg(4) = -1;
  CHECK_THROWS_AS(c.fit(X, neg), std::invalid_argument);
  CHECK_THROWS_WITH(c.fit(X, neg), Catch::Contains("-1"));
  CHECK_THROWS_WITH(c.fit(X, y.head(11)), Catch::Contains("X") && Catch::Contains("labels"));
  CHECK_THROWS_AS(c.fit(X, Labels::Zero(12)), std::invalid_argument);  // K >= 2
  em::Matrix<T> Xbad = X;
  Xbad(2, 1) = std::numeric_limits<T>::infinity();
  CHECK_THROWS_WITH(c.fit(Xbad, y), Catch::Contains("Inf"));
  CHECK_THROWS_WITH((em::LogisticRegression<T>({.fit_intercept = true, .C = 0.0})), Catch::Contains("C"));
  CHECK_THROWS_WITH((em::LogisticRegression<T>({.fit_intercept = true, .C = -2.0})), Catch::Contains("C"));
}

// =================================================================================================
// Parameters and optimizers
// =================================================================================================

TEMPLATE_TEST_CASE("API.md optimizers: designated initializers in API order, one step by the torch rule",
                   "[api][optim]", float, double) {
  using T = TestType;
  em::Parameter<T> a(2, 2), bb(3, 1);
  const MatD a0 = (MatD(2, 2) << 0.5, -1.0, 2.0, 0.25).finished();
  const MatD ga = (MatD(2, 2) << 0.1, -0.3, 0.7, 0.0).finished();
  const MatD b0 = (MatD(3, 1) << 1.0, -2.0, 0.5).finished();
  const MatD gbm = (MatD(3, 1) << -0.2, 0.4, 1.5).finished();
  auto reset = [&] {
    a.value = a0.cast<T>();
    a.grad = ga.cast<T>();
    bb.value = b0.cast<T>();
    bb.grad = gbm.cast<T>();
  };
  const std::vector<em::Parameter<T>*> params{&a, &bb};
  auto check = [&](const MatD& ea, const MatD& eb) {
    CHECK(max_abs_diff(to_d(a.value), ea) < 10 * tol<T>());
    CHECK(max_abs_diff(to_d(bb.value), eb) < 10 * tol<T>());
  };

  SECTION("SGD with Nesterov momentum, two steps") {
    em::optim::SGD<T> opt({.lr = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 0});
    reset();
    opt.step(params);
    // buf = g; d = g + 0.9 buf
    check(a0 - 0.1 * 1.9 * ga, b0 - 0.1 * 1.9 * gbm);
    const MatD a1 = a0 - 0.1 * 1.9 * ga, b1 = b0 - 0.1 * 1.9 * gbm;
    opt.step(params);  // same grads: buf = 0.9 g + g = 1.9 g; d = g + 0.9 * 1.9 g
    check(a1 - 0.1 * (1 + 0.9 * 1.9) * ga, b1 - 0.1 * (1 + 0.9 * 1.9) * gbm);
  }
  SECTION("SGD with weight decay") {
    em::optim::SGD<T> opt({.lr = 0.1, .momentum = 0, .nesterov = false, .weight_decay = 0.5});
    reset();
    opt.step(params);
    check(a0 - 0.1 * (ga + 0.5 * a0), b0 - 0.1 * (gbm + 0.5 * b0));
  }
  auto adam_step = [](const MatD& p, const MatD& g, double lr, double b1, double b2, double eps, int t, MatD& m,
                      MatD& v) {
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g.cwiseAbs2();
    const MatD mh = m / (1 - std::pow(b1, t));
    const MatD vh = v / (1 - std::pow(b2, t));
    return MatD(p.array() - lr * mh.array() / (vh.array().sqrt() + eps));
  };
  SECTION("Adam, two steps (state kept per parameter)") {
    em::optim::Adam<T> opt({.lr = 1e-2, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-3, .weight_decay = 0.1});
    reset();
    MatD ma = MatD::Zero(2, 2), va = ma, mb = MatD::Zero(3, 1), vb = mb;
    MatD ea = a0, eb = b0;
    for (int t = 1; t <= 2; ++t) {
      opt.step(params);
      ea = adam_step(ea, ga + 0.1 * ea, 1e-2, 0.8, 0.99, 1e-3, t, ma, va);  // L2 added to the gradient
      eb = adam_step(eb, gbm + 0.1 * eb, 1e-2, 0.8, 0.99, 1e-3, t, mb, vb);
    }
    check(ea, eb);
  }
  SECTION("AdamW, decoupled decay") {
    em::optim::AdamW<T> opt({.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.5});
    reset();
    opt.step(params);
    MatD ma = MatD::Zero(2, 2), va = ma, mb = MatD::Zero(3, 1), vb = mb;
    check(adam_step(a0 * (1 - 1e-2 * 0.5), ga, 1e-2, 0.9, 0.999, 1e-8, 1, ma, va),
          adam_step(b0 * (1 - 1e-2 * 0.5), gbm, 1e-2, 0.9, 0.999, 1e-8, 1, mb, vb));
    em::optim::AdamW<T> dflt({.lr = 1e-3});
    CHECK(dflt.options().weight_decay == 1e-2);
  }
  SECTION("RMSprop") {
    em::optim::RMSprop<T> opt({.lr = 1e-2, .alpha = 0.9, .eps = 1e-8});
    reset();
    opt.step(params);
    auto rule = [](const MatD& p, const MatD& g) {
      const MatD v = 0.1 * g.cwiseAbs2();
      return MatD(p.array() - 1e-2 * g.array() / (v.array().sqrt() + 1e-8));
    };
    check(rule(a0, ga), rule(b0, gbm));
  }
  SECTION("Adagrad") {
    em::optim::Adagrad<T> opt({.lr = 1e-2, .eps = 1e-10});
    reset();
    opt.step(params);
    auto rule = [](const MatD& p, const MatD& g) {
      return MatD(p.array() - 1e-2 * g.array() / (g.cwiseAbs2().array().sqrt() + 1e-10));
    };
    check(rule(a0, ga), rule(b0, gbm));
  }
  SECTION("defaults and validation") {
    CHECK(em::optim::AdamOptions{}.lr == 1e-3);
    CHECK(em::optim::RMSpropOptions{}.alpha == 0.99);
    CHECK(em::optim::AdagradOptions{}.eps == 1e-10);
    CHECK_THROWS_AS(em::optim::SGD<T>({}), std::invalid_argument);  // lr is required
    CHECK_THROWS_WITH(em::optim::SGD<T>({.lr = -1}), Catch::Contains("lr"));
    CHECK_THROWS_WITH((em::optim::Adam<T>({.lr = 1e-3, .beta1 = 1.5})), Catch::Contains("beta1"));
  }
}

// =================================================================================================
// Layers
// =================================================================================================

TEMPLATE_TEST_CASE("API.md Dense: y = x W^T + b, parameters W (out x in), b (out)", "[api][nn]", float, double) {
  using T = TestType;
  em::nn::Dense<T> L(4, 3);
  const auto ps = L.parameters();
  static_assert(std::is_same_v<decltype(L.parameters()), std::vector<em::Parameter<T>*>>);
  REQUIRE(ps.size() == 2);
  CHECK(ps[0]->value.rows() == 3);
  CHECK(ps[0]->value.cols() == 4);
  CHECK(ps[1]->value.size() == 3);
  set_params_by_formula(ps, 0.5);
  const em::Matrix<T> X = design<T>(5, 4);
  const em::Matrix<T>& Y = L.forward(X);
  static_assert(std::is_same_v<decltype(L.forward(X)), const em::Matrix<T>&>);
  MatD ref = to_d(X) * to_d(ps[0]->value).transpose();
  ref.rowwise() += to_d(ps[1]->value).col(0).transpose();
  CHECK(max_abs_diff(to_d(Y), ref) < 10 * tol<T>());
  CHECK(L.forward(X.topRows(2)).rows() == 2);  // expressions as input
  CHECK(max_abs_diff(to_d(L.forward(T(2) * X)), 2 * to_d(X) * to_d(ps[0]->value).transpose() +
                                                    MatD::Ones(5, 1) * to_d(ps[1]->value).transpose()) <
        10 * tol<T>());

  // backward overwrites the grads (twice the same call gives the same grads) and returns dL/dX.
  const em::Matrix<T> dY = design<T>(5, 3, 2.0);
  L.forward(X);
  const em::Matrix<T> dX = L.backward(dY);
  static_assert(std::is_same_v<decltype(L.backward(dY)), const em::Matrix<T>&>);
  const MatD gW1 = to_d(ps[0]->grad), gb1 = to_d(ps[1]->grad);
  L.forward(X);
  L.backward(dY);
  CHECK(max_abs_diff(to_d(ps[0]->grad), gW1) == 0.0);
  CHECK(max_abs_diff(to_d(ps[1]->grad), gb1) == 0.0);
  CHECK(max_abs_diff(gW1, to_d(dY).transpose() * to_d(X)) < 10 * tol<T>());
  CHECK(max_abs_diff(gb1, to_d(dY).transpose() * VecD::Ones(5)) < 10 * tol<T>());
  CHECK(max_abs_diff(to_d(dX), to_d(dY) * to_d(ps[0]->value)) < 10 * tol<T>());
  CHECK_THROWS_WITH(L.forward(design<T>(2, 5)), Catch::Contains("2x5"));
}

TEMPLATE_TEST_CASE("API.md Conv2D: NCHW layout, filter C order, output size", "[api][nn][conv]", float, double) {
  using T = TestType;
  em::nn::Conv2D<T> conv({.in_channels = 2, .height = 5, .width = 4, .out_channels = 3, .kernel = 3, .stride = 2,
                          .padding = 1});
  auto ps = conv.parameters();
  REQUIRE(ps.size() == 2);
  CHECK(ps[0]->value.rows() == 3);
  CHECK(ps[0]->value.cols() == 2 * 3 * 3);
  CHECK(ps[1]->value.size() == 3);
  // H_out = floor((5 + 2 - 3)/2) + 1 = 3, W_out = floor((4 + 2 - 3)/2) + 1 = 2
  CHECK(conv.forward(design<T>(2, 2 * 5 * 4)).cols() == 3 * 3 * 2);
  em::nn::Conv2D<T> dflt({.in_channels = 1, .height = 4, .width = 4, .out_channels = 1, .kernel = 3});
  CHECK(dflt.forward(design<T>(1, 16)).cols() == 4);  // stride 1, padding 0 by default

  // A 1x1 kernel whose weight is a permutation passes channels through in C order.
  const int C = 3, H = 2, W = 3;
  em::nn::Conv2D<T> pw({.in_channels = C, .height = H, .width = W, .out_channels = C, .kernel = 1, .stride = 1,
                        .padding = 0});
  auto pp = pw.parameters();
  pp[0]->value.setZero();
  pp[1]->value.setZero();
  for (int o = 0; o < C; ++o) pp[0]->value(o, (o + 1) % C) = T(1);  // output channel o = input channel o+1
  const em::Matrix<T> X = design<T>(2, C * H * W);
  const em::Matrix<T> Y = pw.forward(X);
  for (int o = 0; o < C; ++o)
    CHECK(max_abs_diff(to_d(Y.middleCols(o * H * W, H * W)), to_d(X.middleCols(((o + 1) % C) * H * W, H * W))) ==
          0.0);
  for (auto* p : pp) p->value.setZero();
  for (int o = 0; o < C; ++o) pp[0]->value(o, o) = T(1);
  CHECK(max_abs_diff(to_d(pw.forward(X)), to_d(X)) == 0.0);  // identity weight: output == input

  // Each filter row is [c][i][j]: weight index c*k*k + i*k + j picks X[c][y+i][x+j].
  em::nn::Conv2D<T> pick({.in_channels = 2, .height = 4, .width = 5, .out_channels = 1, .kernel = 3, .stride = 1,
                          .padding = 0});
  auto pk = pick.parameters();
  pk[0]->value.setZero();
  pk[1]->value.setConstant(T(0.5));
  pk[0]->value(0, 1 * 9 + 0 * 3 + 2) = T(1);
  const em::Matrix<T> X2 = design<T>(2, 2 * 4 * 5, 0.4);
  const em::Matrix<T> Y2 = pick.forward(X2);
  REQUIRE(Y2.cols() == 2 * 3);
  for (Index n = 0; n < 2; ++n)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x)
        CHECK(std::abs(double(Y2(n, y * 3 + x)) - (double(X2(n, 1 * 20 + (y + 0) * 5 + (x + 2))) + 0.5)) <
              10 * tol<T>());
  CHECK_THROWS_AS((em::nn::Conv2D<T>({.in_channels = 0, .height = 4, .width = 4, .out_channels = 1, .kernel = 3})),
                  std::invalid_argument);
}

TEMPLATE_TEST_CASE("API.md pools: output size with padding, padding never wins a max, zeros in an average",
                   "[api][nn][pool]", float, double) {
  using T = TestType;
  const int C = 2, H = 5, W = 4, k = 3, s = 2, p = 1;
  // All values negative: a padding zero would win a max if it took part.
  em::Matrix<T> X = design<T>(3, C * H * W, 0.6);
  X = (-X.array().abs() - T(0.1)).matrix();
  em::nn::MaxPool2D<T> mp({.channels = C, .height = H, .width = W, .kernel = k, .stride = s, .padding = p});
  em::nn::AvgPool2D<T> ap({.channels = C, .height = H, .width = W, .kernel = k, .stride = s, .padding = p});
  const int Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;
  const em::Matrix<T> Ym = mp.forward(X);
  const em::Matrix<T> Ya = ap.forward(X);
  REQUIRE(Ym.cols() == C * Ho * Wo);
  REQUIRE(Ya.cols() == C * Ho * Wo);
  CHECK(Ym.maxCoeff() < T(0));
  CHECK(max_abs_diff(to_d(Ym), pool_reference(true, to_d(X), C, H, W, k, s, p)) < 10 * tol<T>());
  CHECK(max_abs_diff(to_d(Ya), pool_reference(false, to_d(X), C, H, W, k, s, p)) < 10 * tol<T>());
  CHECK(mp.parameters().empty());
  em::nn::MaxPool2D<T> nopad({.channels = 1, .height = 4, .width = 4, .kernel = 2, .stride = 2});
  CHECK(nopad.forward(design<T>(1, 16)).cols() == 4);
  CHECK_THROWS_WITH((em::nn::MaxPool2D<T>({.channels = 1, .height = 4, .width = 4, .kernel = 2, .stride = 2,
                                           .padding = 2})),
                    Catch::Contains("padding"));
}

TEMPLATE_TEST_CASE("API.md RNN/LSTM/GRU: parameters, output shapes, step-after-step layout, cell equations",
                   "[api][nn][rnn]", float, double) {
  using T = TestType;
  SECTION("RNN with W_ih = I, W_hh = 0, b = 0 returns tanh of every step, in order") {
    em::nn::RNN<T> rnn({.input_size = 3, .hidden_size = 3, .seq_len = 4, .return_sequences = true});
    auto ps = rnn.parameters();
    REQUIRE(ps.size() == 4);
    for (auto* p : ps) p->value.setZero();
    ps[0]->value.setIdentity();
    const em::Matrix<T> X = design<T>(2, 4 * 3);
    const em::Matrix<T>& Y = rnn.forward(X);
    REQUIRE(Y.cols() == 4 * 3);
    CHECK(max_abs_diff(to_d(Y), to_d(X).array().tanh().matrix()) < 10 * tol<T>());
  }
  const Index F = 3, Hs = 2, Tn = 4, N = 3;
  const em::Matrix<T> X = design<T>(N, Tn * F, 0.35);
  auto run = [&](auto& layer, int gates, bool seqs) {
    auto ps = layer.parameters();
    REQUIRE(ps.size() == 4);
    CHECK(ps[0]->value.rows() == gates * Hs);  // W_ih
    CHECK(ps[0]->value.cols() == F);
    CHECK(ps[1]->value.rows() == gates * Hs);  // W_hh
    CHECK(ps[1]->value.cols() == Hs);
    CHECK(ps[2]->value.size() == gates * Hs);  // b_ih
    CHECK(ps[3]->value.size() == gates * Hs);  // b_hh
    set_params_by_formula(ps, 0.6);
    const em::Matrix<T> Y = layer.forward(X);
    REQUIRE(Y.rows() == N);
    REQUIRE(Y.cols() == (seqs ? Tn * Hs : Hs));
    for (Index n = 0; n < N; ++n) {
      const VecD all = recurrent_reference(gates, to_d(X).row(n).transpose(), F, Hs, Tn, to_d(ps[0]->value),
                                           to_d(ps[1]->value), to_d(ps[2]->value).col(0), to_d(ps[3]->value).col(0));
      const VecD expect = seqs ? all : VecD(all.tail(Hs));
      CHECK(max_abs_diff(to_d(Y.row(n)).transpose(), expect) < 10 * tol<T>());
    }
  };
  for (const bool seqs : {false, true}) {
    em::nn::RNN<T> rnn({.input_size = int(F), .hidden_size = int(Hs), .seq_len = int(Tn), .return_sequences = seqs});
    em::nn::LSTM<T> lstm({.input_size = int(F), .hidden_size = int(Hs), .seq_len = int(Tn), .return_sequences = seqs});
    em::nn::GRU<T> gru({.input_size = int(F), .hidden_size = int(Hs), .seq_len = int(Tn), .return_sequences = seqs});
    run(rnn, 1, seqs);
    run(lstm, 4, seqs);
    run(gru, 3, seqs);
  }
  em::nn::LSTM<T> dflt({.input_size = 2, .hidden_size = 3, .seq_len = 5});  // return_sequences = false by default
  CHECK(dflt.forward(design<T>(2, 10)).cols() == 3);
  CHECK_THROWS_AS((em::nn::GRU<T>({.input_size = 0, .hidden_size = 3, .seq_len = 5})), std::invalid_argument);
}

TEMPLATE_TEST_CASE("API.md Dropout, Flatten, activations, set_training", "[api][nn]", float, double) {
  using T = TestType;
  const em::Matrix<T> X = design<T>(6, 5);
  em::nn::Dropout<T> drop(0.5, 3);
  em::nn::Dropout<T> drop0(0.25);  // seed defaults to 0
  const em::Matrix<T> Yt = drop.forward(X);  // training by default: inverted dropout
  for (Index i = 0; i < X.rows(); ++i)
    for (Index j = 0; j < X.cols(); ++j) CHECK((Yt(i, j) == T(0) || Yt(i, j) == T(2) * X(i, j)));
  CHECK((Yt.array() == T(0)).count() > 0);
  drop.set_training(false);
  CHECK(max_abs_diff(to_d(drop.forward(X)), to_d(X)) == 0.0);
  CHECK(max_abs_diff(to_d(drop.backward(X)), to_d(X)) == 0.0);
  drop0.set_training(false);
  CHECK(max_abs_diff(to_d(drop0.forward(X)), to_d(X)) == 0.0);
  CHECK_THROWS_WITH(em::nn::Dropout<T>(1.5), Catch::Contains("p"));

  em::nn::Flatten<T> flat;
  CHECK(max_abs_diff(to_d(flat.forward(X)), to_d(X)) == 0.0);
  flat.set_training(false);

  const MatD Xd = to_d(X);
  em::nn::ReLU<T> relu;
  em::nn::LeakyReLU<T> leaky;  // slope 0.01
  em::nn::LeakyReLU<T> leaky2(T(0.2));
  em::nn::Sigmoid<T> sg;
  em::nn::Tanh<T> th;
  em::nn::Softmax<T> sm;
  em::nn::GELU<T> gelu;
  CHECK(max_abs_diff(to_d(relu.forward(X)), Xd.cwiseMax(0.0)) < tol<T>());
  CHECK(max_abs_diff(to_d(leaky.forward(X)), Xd.unaryExpr([](double v) { return v > 0 ? v : 0.01 * v; })) <
        tol<T>());
  CHECK(max_abs_diff(to_d(leaky2.forward(X)), Xd.unaryExpr([](double v) { return v > 0 ? v : 0.2 * v; })) <
        tol<T>());
  CHECK(max_abs_diff(to_d(sg.forward(X)), Xd.unaryExpr([](double v) { return sig(v); })) < 10 * tol<T>());
  CHECK(max_abs_diff(to_d(th.forward(X)), Xd.array().tanh().matrix()) < 10 * tol<T>());
  CHECK(max_abs_diff(to_d(gelu.forward(X)),
                     Xd.unaryExpr([](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); })) <
        10 * tol<T>());
  const em::Matrix<T> S = sm.forward(X);
  for (Index i = 0; i < X.rows(); ++i) {
    const Eigen::RowVectorXd e = (Xd.row(i).array() - Xd.row(i).maxCoeff()).exp().matrix();
    CHECK(max_abs_diff(to_d(S.row(i)), e / e.sum()) < 10 * tol<T>());
  }
  for (auto* l : std::vector<em::nn::Layer<T>*>{&relu, &leaky, &sg, &th, &sm, &gelu}) {
    CHECK(l->parameters().empty());
    l->set_training(false);
    l->set_training(true);
  }
}

TEMPLATE_TEST_CASE("API.md losses: forward(pred, target) -> T, backward() -> const Matrix<T>&", "[api][nn][loss]",
                   float, double) {
  using T = TestType;
  const em::Matrix<T> P = design<T>(4, 3, 0.1);
  em::Matrix<T> Y = design<T>(4, 3, 1.9);
  const MatD Pd = to_d(P), Yd = to_d(Y);

  em::nn::MSELoss<T> mse;
  static_assert(std::is_same_v<decltype(mse.forward(P, Y)), T>);
  static_assert(std::is_same_v<decltype(mse.backward()), const em::Matrix<T>&>);
  CHECK(std::abs(double(mse.forward(P, Y)) - (Pd - Yd).squaredNorm() / 12.0) < 10 * tol<T>());
  CHECK(max_abs_diff(to_d(mse.backward()), 2.0 * (Pd - Yd) / 12.0) < 10 * tol<T>());

  em::nn::BCEWithLogitsLoss<T> bce;
  const em::Matrix<T> Tgt = (Y.array() > T(0)).template cast<T>();
  static_assert(std::is_same_v<decltype(bce.forward(P, Tgt)), T>);
  double ref = 0;
  for (Index i = 0; i < 4; ++i)
    for (Index j = 0; j < 3; ++j) {
      const double z = Pd(i, j), t = double(Tgt(i, j));
      ref += -(t * std::log(sig(z)) + (1 - t) * std::log(1 - sig(z)));
    }
  CHECK(std::abs(double(bce.forward(P, Tgt)) - ref / 12.0) < 10 * tol<T>());
  CHECK(max_abs_diff(to_d(bce.backward()), (Pd.unaryExpr([](double v) { return sig(v); }) - to_d(Tgt)) / 12.0) <
        10 * tol<T>());
  CHECK_THROWS_AS(bce.forward(P, (Tgt.array() * T(2)).matrix().eval()), std::invalid_argument);

  em::nn::CrossEntropyLoss<T> ce;
  Labels lab(4);
  lab << 0, 2, 1, 2;
  static_assert(std::is_same_v<decltype(ce.forward(P, lab)), T>);
  static_assert(std::is_same_v<decltype(ce.backward()), const em::Matrix<T>&>);
  double ceref = 0;
  MatD G(4, 3);
  for (Index i = 0; i < 4; ++i) {
    const Eigen::RowVectorXd e = (Pd.row(i).array() - Pd.row(i).maxCoeff()).exp().matrix();
    const Eigen::RowVectorXd pr = e / e.sum();
    ceref -= std::log(pr(lab(i)));
    G.row(i) = pr / 4.0;
    G(i, lab(i)) -= 0.25;
  }
  CHECK(std::abs(double(ce.forward(P, lab)) - ceref / 4.0) < 10 * tol<T>());
  CHECK(max_abs_diff(to_d(ce.backward()), G) < 10 * tol<T>());
  lab(1) = 3;
  CHECK_THROWS_WITH(ce.forward(P, lab), Catch::Contains("3"));
  CHECK_THROWS_WITH(mse.forward(P, design<T>(4, 2)), Catch::Contains("4x3") && Catch::Contains("4x2"));
}

// =================================================================================================
// Sequential
// =================================================================================================

TEMPLATE_TEST_CASE("API.md Sequential: add by copy and by move, parameters order, forward/backward",
                   "[api][nn][seq]", float, double) {
  using T = TestType;
  em::nn::Dense<T> d1(4, 5, 11);
  em::nn::Sequential<T> net;
  net.add(d1);  // copy
  net.add(em::nn::ReLU<T>());
  em::nn::Dense<T> d2(5, 2, 12);
  net.add(std::move(d2));  // move
  const MatD W1 = to_d(d1.parameters()[0]->value);
  d1.parameters()[0]->value.setZero();  // the network holds a copy
  auto ps = net.parameters();
  REQUIRE(ps.size() == 4);
  CHECK(ps[0]->value.rows() == 5);  // Dense(4,5).W
  CHECK(ps[0]->value.cols() == 4);
  CHECK(ps[1]->value.size() == 5);  // Dense(4,5).b
  CHECK(ps[2]->value.rows() == 2);  // Dense(5,2).W
  CHECK(ps[2]->value.cols() == 5);
  CHECK(ps[3]->value.size() == 2);  // Dense(5,2).b
  CHECK(max_abs_diff(to_d(ps[0]->value), W1) == 0.0);
  const em::Matrix<T> X = design<T>(6, 4);
  set_params_by_formula(ps, 0.4);
  const em::Matrix<T> Y = net.forward(X);
  MatD H = to_d(X) * to_d(ps[0]->value).transpose() + MatD::Ones(6, 1) * to_d(ps[1]->value).transpose();
  H = H.cwiseMax(0.0);
  const MatD ref = H * to_d(ps[2]->value).transpose() + MatD::Ones(6, 1) * to_d(ps[3]->value).transpose();
  CHECK(max_abs_diff(to_d(Y), ref) < 10 * tol<T>());
  const em::Matrix<T> dY = design<T>(6, 2, 0.8);
  CHECK(net.backward(dY).cols() == 4);
  CHECK(max_abs_diff(to_d(ps[2]->grad), to_d(dY).transpose() * H) < 10 * tol<T>());
  CHECK_THROWS_AS(net.add(em::nn::Dense<T>(3, 1)), std::invalid_argument);  // 2 outputs feed 3 inputs
  CHECK_THROWS_AS(net.forward(design<T>(2, 3)), std::invalid_argument);
}

TEMPLATE_TEST_CASE("API.md Sequential: fit (one full-batch step by hand), History, predict, modes",
                   "[api][nn][seq]", float, double) {
  using T = TestType;
  const em::Matrix<T> X = design<T>(8, 3, 0.7);
  const em::Matrix<T> Y = design<T>(8, 2, 2.5);
  em::nn::Sequential<T> net;
  net.add(em::nn::Dense<T>(3, 2, 5));
  auto ps = net.parameters();
  const MatD W0 = to_d(ps[0]->value), b0 = to_d(ps[1]->value);
  em::nn::MSELoss<T> loss;
  em::optim::SGD<T> opt({.lr = 0.1});
  const em::History h = net.fit(X, Y, loss, opt, em::TrainOptions{.epochs = 1, .batch_size = 0, .shuffle = true, .seed = 0});
  REQUIRE(h.loss.size() == 1u);
  // One step: P = X W^T + b, G = 2 (P - Y) / (N*D), W -= lr G^T X, b -= lr G^T 1.
  const MatD P = to_d(X) * W0.transpose() + MatD::Ones(8, 1) * b0.transpose();
  const MatD G = 2.0 * (P - to_d(Y)) / 16.0;
  CHECK(std::abs(h.loss[0] - (P - to_d(Y)).squaredNorm() / 16.0) < 10 * tol<T>());
  CHECK(max_abs_diff(to_d(ps[0]->value), W0 - 0.1 * G.transpose() * to_d(X)) < 10 * tol<T>());
  CHECK(max_abs_diff(to_d(ps[1]->value), b0 - 0.1 * G.transpose() * VecD::Ones(8)) < 10 * tol<T>());

  const em::History h3 = net.fit(X.topRows(6), Y.topRows(6), loss, opt, em::TrainOptions{.epochs = 3, .batch_size = 2});
  CHECK(h3.loss.size() == 3u);
  const em::Matrix<T> pr = net.predict(X);
  static_assert(std::is_same_v<decltype(net.predict(X)), em::Matrix<T>>);
  CHECK(max_abs_diff(to_d(pr), to_d(net.forward(X))) < 10 * tol<T>());
  CHECK(net.predict(T(2) * X).rows() == 8);
  const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> Xc = X;  // column-major
  CHECK(max_abs_diff(to_d(net.predict(Xc)), to_d(pr)) < 10 * tol<T>());

  // Classification with Labels, Adam.
  em::nn::Sequential<T> clf;
  clf.add(em::nn::Dense<T>(3, 4, 1)).add(em::nn::Tanh<T>()).add(em::nn::Dense<T>(4, 3, 2));
  Labels lab(8);
  lab << 0, 1, 2, 0, 1, 2, 0, 1;
  em::nn::CrossEntropyLoss<T> ce;
  em::optim::Adam<T> adam({.lr = 1e-2});
  const em::History hc = clf.fit(X, lab, ce, adam, em::TrainOptions{.epochs = 20, .batch_size = 0});
  CHECK(hc.loss.size() == 20u);
  CHECK(hc.loss.back() < hc.loss.front());

  // predict and evaluate run in evaluation mode and leave the mode as they found it.
  em::nn::Sequential<T> dn;
  dn.add(em::nn::Dense<T>(3, 6, 4)).add(em::nn::Dropout<T>(0.5, 9));
  const em::Matrix<T> eval_out = dn.predict(X);  // training mode (default) on entry
  CHECK(dn.training());
  bool differs = false;
  for (int rep = 0; rep < 3 && !differs; ++rep) differs = max_abs_diff(to_d(dn.forward(X)), to_d(eval_out)) > 0;
  CHECK(differs);  // still training: dropout active after predict
  const em::Matrix<T> Yd = design<T>(8, 6, 0.2);
  dn.evaluate(X, Yd, loss);
  CHECK(dn.training());
  dn.set_training(false);
  CHECK(max_abs_diff(to_d(dn.forward(X)), to_d(eval_out)) == 0.0);  // eval = what predict computed
  dn.predict(X);
  dn.evaluate(X, Yd, loss);
  CHECK_FALSE(dn.training());
  CHECK(max_abs_diff(to_d(dn.forward(X)), to_d(eval_out)) == 0.0);
}

// =================================================================================================
// Model files
// =================================================================================================

TEMPLATE_TEST_CASE("API.md io: save / load / load_weights, names, F32/F64 conversion, FormatError", "[api][io]",
                   float, double) {
  using T = TestType;
  using U = std::conditional_t<std::is_same_v<T, float>, double, float>;  // the other precision
  static_assert(std::is_base_of_v<std::runtime_error, em::io::FormatError>);
  const std::string tag = std::is_same_v<T, float> ? "f32" : "f64";
  const em::Matrix<T> X = design<T>(5, 4);

  SECTION("Sequential round trip, tensor names as PyTorch's state_dict, other precision") {
    em::nn::Sequential<T> net;
    net.add(em::nn::Dense<T>(4, 3, 1)).add(em::nn::ReLU<T>()).add(em::nn::Dense<T>(3, 2, 2));
    const auto path = temp_file("seq_" + tag);
    em::io::save(net, path);
    const std::string pstr = path.string();
    auto loaded = em::io::load<em::nn::Sequential<T>>(pstr.c_str());
    static_assert(std::is_same_v<decltype(loaded), em::nn::Sequential<T>>);
    CHECK(max_abs_diff(to_d(loaded.predict(X)), to_d(net.predict(X))) == 0.0);
    auto other = em::io::load<em::nn::Sequential<U>>(path);
    const em::Matrix<U> XU = X.template cast<U>();
    CHECK(max_abs_diff(to_d(other.predict(XU)), to_d(net.predict(X))) < 1e-5);
    const std::string header = read_header(path);
    for (const char* name : {"\"0.weight\"", "\"0.bias\"", "\"2.weight\"", "\"2.bias\"", "__metadata__",
                             "format_version"})
      CHECK(header.find(name) != std::string::npos);
    std::filesystem::remove(path);
  }
  SECTION("Conv2D and LSTM tensors: [out, in, k, k] and weight_ih_l0") {
    em::nn::Sequential<T> net;
    net.add(em::nn::Conv2D<T>({.in_channels = 2, .height = 4, .width = 4, .out_channels = 3, .kernel = 3}))
        .add(em::nn::Flatten<T>())
        .add(em::nn::LSTM<T>({.input_size = 3, .hidden_size = 2, .seq_len = 4}));
    const auto path = temp_file("conv_" + tag);
    em::io::save(net, path);
    const std::string header = read_header(path);
    std::string compact;
    for (char ch : header)
      if (ch != ' ') compact += ch;
    // The header entry of one tensor: {"dtype":..,"shape":..,"data_offsets":..} in any key order.
    auto entry = [&](const std::string& name) {
      const auto at = compact.find("\"" + name + "\":{");
      if (at == std::string::npos) return std::string();
      return compact.substr(at, compact.find('}', at) - at + 1);
    };
    const std::string dt = std::is_same_v<T, float> ? "\"F32\"" : "\"F64\"";
    CHECK(entry("0.weight").find("\"shape\":[3,2,3,3]") != std::string::npos);
    CHECK(entry("0.weight").find(dt) != std::string::npos);
    CHECK(entry("0.bias").find("\"shape\":[3]") != std::string::npos);
    for (const char* name : {"\"2.weight_ih_l0\"", "\"2.weight_hh_l0\"", "\"2.bias_ih_l0\"", "\"2.bias_hh_l0\""})
      CHECK(header.find(name) != std::string::npos);
    CHECK(entry("2.weight_ih_l0").find("\"shape\":[8,3]") != std::string::npos);
    CHECK(entry("2.weight_hh_l0").find("\"shape\":[8,2]") != std::string::npos);
    CHECK(entry("2.bias_ih_l0").find("\"shape\":[8]") != std::string::npos);
    auto loaded = em::io::load<em::nn::Sequential<T>>(path);
    const em::Matrix<T> Xi = design<T>(2, 32, 0.3);
    CHECK(max_abs_diff(to_d(loaded.predict(Xi)), to_d(net.predict(Xi))) == 0.0);
    std::filesystem::remove(path);
  }
  SECTION("linear models round trip") {
    const em::Vector<T> y = regression_target(X);
    em::LinearRegression<T> lr({.fit_intercept = true, .alpha = 0.5});
    lr.fit(X, y);
    const auto p1 = temp_file("lin_" + tag);
    em::io::save(lr, p1);
    auto lr2 = em::io::load<em::LinearRegression<T>>(p1);
    CHECK(max_abs_diff(to_d(lr2.predict(X)), to_d(lr.predict(X))) == 0.0);
    auto lr3 = em::io::load<em::LinearRegression<U>>(p1);
    CHECK(max_abs_diff(to_d(lr3.coef()), to_d(lr.coef())) < 1e-6 * (1 + to_d(lr.coef()).cwiseAbs().maxCoeff()));

    em::Matrix<T> Xc = design<T>(30, 4, 0.1);
    const Labels lab = class_labels(Xc, 3);
    em::LogisticRegression<T> c({.fit_intercept = true, .C = 2.0});
    c.fit(Xc, lab);
    const auto p2 = temp_file("log_" + tag);
    em::io::save(c, p2);
    auto c2 = em::io::load<em::LogisticRegression<T>>(p2);
    CHECK(max_abs_diff(to_d(c2.predict_proba(Xc)), to_d(c.predict_proba(Xc))) == 0.0);
    CHECK((c2.predict(Xc).array() == c.predict(Xc).array()).all());
    // A file of one model is not another model.
    CHECK_THROWS_AS(em::io::load<em::LinearRegression<T>>(p2), em::io::FormatError);
    CHECK_THROWS_AS(em::io::load<em::nn::Sequential<T>>(p1), em::io::FormatError);
    std::filesystem::remove(p1);
    std::filesystem::remove(p2);
  }
  SECTION("load_weights from a tensors-only file (F32 and F64) into a built model") {
    const MatD W = (MatD(2, 3) << 0.5, -1.25, 2.0, 0.125, 3.5, -0.75).finished();
    const VecD b = (VecD(2) << 0.25, -2.5).finished();
    for (const bool f32 : {true, false}) {
      const auto path = temp_file(std::string(f32 ? "w32_" : "w64_") + tag);
      if (f32)
        write_tensors_only<float>(path, W, b);
      else
        write_tensors_only<double>(path, W, b);
      em::nn::Sequential<T> net;
      net.add(em::nn::Dense<T>(3, 2));
      em::io::load_weights(net, path);
      auto ps = net.parameters();
      CHECK(max_abs_diff(to_d(ps[0]->value), W) == 0.0);  // exactly representable in both precisions
      CHECK(max_abs_diff(to_d(ps[1]->value), b) == 0.0);
      em::nn::Sequential<T> wrong;
      wrong.add(em::nn::Dense<T>(2, 3));
      CHECK_THROWS_AS(em::io::load_weights(wrong, path), em::io::FormatError);
      std::filesystem::remove(path);
    }
  }
  SECTION("truncated and missing files throw FormatError") {
    em::nn::Sequential<T> net;
    net.add(em::nn::Dense<T>(4, 3, 1));
    const auto path = temp_file("trunc_" + tag);
    em::io::save(net, path);
    const auto size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, size - 5);
    CHECK_THROWS_AS(em::io::load<em::nn::Sequential<T>>(path), em::io::FormatError);
    std::filesystem::remove(path);
    CHECK_THROWS_AS(em::io::load<em::nn::Sequential<T>>(path), std::runtime_error);
  }
}
