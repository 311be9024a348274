#include <catch2/catch.hpp>

#include <eigenml/linear_model/linear_regression.hpp>
#include <eigenml/optim/adam.hpp>
#include <eigenml/optim/sgd.hpp>
#include <eigenml/random.hpp>

#include <cmath>
#include <limits>

#include "linear_model/linear_model_support.hpp"
#include "support/gradcheck.hpp"

using namespace eigenml;
using eigenml::test::make_x;
using eigenml::test::make_y;
using eigenml::test::PlainGD;
using eigenml::test::vec;

namespace {

template <class T>
T tol_for(double dbl, double flt) {
  return static_cast<T>(std::is_same_v<T, double> ? dbl : flt);
}

// Gradient of the unscaled objective ||y - X w - b||^2 + alpha ||w||^2 (d + 1: w then b).
Vector<double> full_gradient(const Matrix<double>& X, const Vector<double>& y, const Vector<double>& w, double b,
                             double alpha, bool fit_intercept) {
  const Vector<double> r = (X * w).array() + b - y.array();
  Vector<double> g(X.cols() + 1);
  g.head(X.cols()) = 2.0 * X.transpose() * r + 2.0 * alpha * w;
  g(X.cols()) = fit_intercept ? 2.0 * r.sum() : 0.0;
  return g;
}

}  // namespace

TEMPLATE_TEST_CASE("LinearRegression exact fit recovers noise-free coefficients", "[linear_model]", float, double) {
  using T = TestType;
  Rng rng(7);
  const Matrix<T> X = random_normal<T>(50, 3, rng);
  const Vector<T> w = vec<T>({0.5, -1.25, 2.0});
  const Vector<T> y = (X * w).array() + T(3);
  LinearRegression<T> m;
  CHECK(&m.fit(X, y) == &m);
  CHECK(m.used_cholesky());
  CHECK((m.coef() - w).template lpNorm<Eigen::Infinity>() < tol_for<T>(1e-13, 1e-5));
  CHECK(std::abs(m.intercept() - T(3)) < tol_for<T>(1e-13, 1e-5));
  CHECK((m.predict(X) - y).template lpNorm<Eigen::Infinity>() < tol_for<T>(1e-12, 1e-4));
  CHECK(m.score(X, y) == Approx(1.0).epsilon(1e-6));
}

TEST_CASE("LinearRegression matches numpy lstsq and sklearn Ridge", "[linear_model]") {
  // Reference values: tests/reference/linear_models.py.
  const Matrix<double> X = make_x<double>(60, 4);
  const Vector<double> y = make_y(X);
  LinearRegression<double> ols;
  ols.fit(X, y);
  const Vector<double> ols_ref = vec<double>({1.4569514678465956, -1.980124842502131, 0.5022390461730082,
                                              0.007719540984196529});
  CHECK((ols.coef() - ols_ref).lpNorm<Eigen::Infinity>() < 1e-13);
  CHECK(ols.intercept() == Approx(0.6978885595186131).epsilon(1e-13));

  LinearRegression<double> ridge({.fit_intercept = true, .alpha = 2.5});
  ridge.fit(X, y);
  const Vector<double> ridge_ref = vec<double>({1.0437615104749671, -1.7278279844702455, 0.30066223630097405,
                                                0.06272438690212243});
  CHECK((ridge.coef() - ridge_ref).lpNorm<Eigen::Infinity>() < 1e-13);
  CHECK(ridge.intercept() == Approx(0.6961054163173437).epsilon(1e-13));

  LinearRegression<double> ridge0({.fit_intercept = false, .alpha = 2.5});
  ridge0.fit(X, y);
  const Vector<double> ridge0_ref = vec<double>({1.0495978611926275, -1.707494063985003, 0.30442080026928225,
                                                 0.08050763950196826});
  CHECK((ridge0.coef() - ridge0_ref).lpNorm<Eigen::Infinity>() < 1e-13);
  CHECK(ridge0.intercept() == 0.0);
}

TEST_CASE("LinearRegression: the gradient vanishes at the returned optimum", "[linear_model]") {
  const Matrix<double> X = make_x<double>(60, 4);
  const Vector<double> y = make_y(X);
  for (double alpha : {0.0, 0.3, 50.0})
    for (bool fi : {true, false}) {
      LinearRegression<double> m({.fit_intercept = fi, .alpha = alpha});
      m.fit(X, y);
      const Vector<double> g = full_gradient(X, y, m.coef(), m.intercept(), alpha, fi);
      // Scale: each gradient entry is a sum of n terms of size |x| |r|.
      const double scale = 2.0 * (X.cwiseAbs().transpose() * y.cwiseAbs()).maxCoeff();
      INFO("alpha " << alpha << " fit_intercept " << fi);
      CHECK(g.lpNorm<Eigen::Infinity>() < 1e-14 * scale);
    }
}

TEST_CASE("LinearRegression: the intercept is not penalised", "[linear_model]") {
  // Shifting y by a constant moves only the intercept, for any ridge penalty.
  const Matrix<double> X = make_x<double>(60, 4);
  const Vector<double> y = make_y(X);
  LinearRegression<double> a({.fit_intercept = true, .alpha = 10.0}), b({.fit_intercept = true, .alpha = 10.0});
  a.fit(X, y);
  b.fit(X, (y.array() + 100.0).matrix());
  CHECK((a.coef() - b.coef()).lpNorm<Eigen::Infinity>() < 1e-12);
  CHECK(b.intercept() - a.intercept() == Approx(100.0).epsilon(1e-13));
  // Large feature means (centring must not lose precision): shift X by 1e4 -> only b moves.
  LinearRegression<double> c({.fit_intercept = true, .alpha = 10.0});
  c.fit((X.array() + 1e4).matrix(), y);
  CHECK((a.coef() - c.coef()).lpNorm<Eigen::Infinity>() < 1e-9);
  CHECK(c.intercept() == Approx(a.intercept() - 1e4 * a.coef().sum()).epsilon(1e-9));
}

TEST_CASE("LinearRegression: rank-deficient X gives the minimum-norm solution", "[linear_model]") {
  const Matrix<double> X = make_x<double>(60, 4);
  const Vector<double> y = make_y(X);
  // Columns [a, b, a + b, 2a]: rank 2. Reference: numpy lstsq on the centred data.
  Matrix<double> A(60, 4);
  A.col(0) = X.col(0);
  A.col(1) = X.col(1);
  A.col(2) = X.col(0) + X.col(1);
  A.col(3) = 2.0 * X.col(0);
  LinearRegression<double> m;
  m.fit(A, y);
  CHECK_FALSE(m.used_cholesky());
  CHECK(m.rank() == 2);
  const Vector<double> ref = vec<double>({0.3673461121431032, -1.1485986335774625, -0.7812525214343601,
                                          0.7346922242862064});
  CHECK((m.coef() - ref).lpNorm<Eigen::Infinity>() < 1e-12);
  CHECK(m.intercept() == Approx(0.6989673946180015).epsilon(1e-12));

  // Fewer samples than features, no intercept: the minimum-norm interpolant.
  const Matrix<double> W = make_x<double>(3, 5);
  const Vector<double> yw = make_y(W);
  LinearRegression<double> wide({.fit_intercept = false});
  wide.fit(W, yw);
  const Vector<double> wide_ref = vec<double>({0.4268759434763956, -1.4491599439968492, 0.1452305229692108,
                                               1.3536976512107772, 1.0003944014957795});
  CHECK((wide.coef() - wide_ref).lpNorm<Eigen::Infinity>() < 1e-12);
  CHECK((wide.predict(W) - yw).lpNorm<Eigen::Infinity>() < 1e-12);

  // A constant column carries no information: its coefficient is 0, the rest as without it.
  Matrix<double> K(60, 5);
  K << X, Vector<double>::Constant(60, 3.0);
  LinearRegression<double> k;
  k.fit(K, y);
  CHECK(std::abs(k.coef()(4)) < 1e-13);
  const Vector<double> ols_ref = vec<double>({1.4569514678465956, -1.980124842502131, 0.5022390461730082,
                                              0.007719540984196529});
  CHECK((k.coef().head(4) - ols_ref).lpNorm<Eigen::Infinity>() < 1e-12);

  // Ridge on a rank-deficient X is well posed: Cholesky path, unique answer, gradient ~0.
  LinearRegression<double> r({.fit_intercept = true, .alpha = 1.0});
  r.fit(A, y);
  const Vector<double> g = full_gradient(A, y, r.coef(), r.intercept(), 1.0, true);
  CHECK(g.lpNorm<Eigen::Infinity>() < 1e-11);
  CHECK(r.coef()(3) == Approx(2.0 * r.coef()(0)).epsilon(1e-10));  // symmetric in the a-direction
}

TEST_CASE("LinearRegression: ill-conditioned X falls back and stays accurate", "[linear_model]") {
  // Two nearly collinear columns (cond(X) ~ 1e7): the normal equations would lose ~14 digits.
  const Matrix<double> X0 = make_x<double>(80, 3);
  Matrix<double> X(80, 3);
  X.col(0) = X0.col(0);
  X.col(1) = X0.col(0) + 1e-7 * X0.col(1);
  X.col(2) = X0.col(2);
  const Vector<double> w = vec<double>({1.0, 2.0, -1.0});
  const Vector<double> y = (X * w).array() + 0.5;
  LinearRegression<double> m;
  m.fit(X, y);
  CHECK_FALSE(m.used_cholesky());
  CHECK(m.rank() == 3);
  CHECK((m.coef() - w).lpNorm<Eigen::Infinity>() < 1e-7);  // error ~ cond * eps
  CHECK((m.predict(X) - y).lpNorm<Eigen::Infinity>() < 1e-12);
}

TEMPLATE_TEST_CASE("LinearRegression: full-batch gradient descent reaches the exact fit", "[linear_model]", float,
                   double) {
  using T = TestType;
  Rng rng(3);
  const Matrix<T> X = random_normal<T>(100, 3, rng);
  Vector<T> y = (X * vec<T>({1.0, -2.0, 0.5})).array() + T(0.7);
  for (Index i = 0; i < y.size(); ++i) y(i) += static_cast<T>(0.3 * rng.normal());
  for (double alpha : {0.0, 20.0}) {
    LinearRegression<T> exact({.fit_intercept = true, .alpha = alpha}), gd({.fit_intercept = true, .alpha = alpha});
    exact.fit(X, y);
    optim::SGD<T> opt({.lr = 0.2});
    gd.fit(X, y, opt, {.epochs = 400, .batch_size = 0});
    CHECK(gd.history().epochs_run() == 400);
    CHECK(gd.history().loss.back() < gd.history().loss.front());
    INFO("alpha " << alpha);
    CHECK((gd.coef() - exact.coef()).template lpNorm<Eigen::Infinity>() < tol_for<T>(1e-12, 1e-5));
    CHECK(std::abs(gd.intercept() - exact.intercept()) < tol_for<T>(1e-12, 1e-5));
  }
}

TEST_CASE("LinearRegression: iterative-fit gradients match finite differences", "[linear_model]") {
  const Matrix<double> X = make_x<double>(30, 4);
  const Vector<double> y = make_y(X);
  const Vector<double> w0 = vec<double>({0.3, -0.2, 0.8, 0.1});
  const double b0 = -0.4;
  for (double alpha : {0.0, 3.0})
    for (bool fi : {true, false}) {
      // J(w, b) = (1/n) ||X w + b - y||^2 + (alpha/n) ||w||^2
      Vector<double> theta(5);
      theta << w0, fi ? b0 : 0.0;
      auto J = [&] {
        const double b = fi ? theta(4) : 0.0;
        return ((X * theta.head(4)).array() + b - y.array()).matrix().squaredNorm() / 30.0 +
               alpha / 30.0 * theta.head(4).squaredNorm();
      };
      const Matrix<double> num = test::numeric_gradient(J, theta);
      // Step 1 moves the parameters to (w0, b0) (lr = 0 keeps them there); step 2 records the
      // gradient the fit computed there.
      PlainGD<double> opt(0.0);
      Vector<double> gw;
      double gb = 0.0;
      opt.hook = [&](const std::vector<Parameter<double>*>& p) {
        if (opt.steps == 1) {
          p[0]->value.col(0) = w0;
          if (fi) p[1]->value(0, 0) = b0;
        } else if (opt.steps == 2) {
          gw = p[0]->grad.col(0);
          if (fi) gb = p[1]->grad(0, 0);
        }
      };
      LinearRegression<double> m({.fit_intercept = fi, .alpha = alpha});
      m.fit(X, y, opt, {.epochs = 2, .batch_size = 0});
      INFO("alpha " << alpha << " fit_intercept " << fi);
      CHECK(test::rel_error(gw, num.col(0).head(4)) < 1e-8);
      if (fi) CHECK(gb == Approx(num(4, 0)).epsilon(1e-7));
    }
}

TEST_CASE("LinearRegression: mini-batch gradients are unbiased and shuffling is seeded", "[linear_model]") {
  const Matrix<double> X = make_x<double>(40, 3);
  const Vector<double> y = make_y(X);
  const double alpha = 2.0;
  // Two unshuffled batches of 20 at a fixed point: their mean gradient is the full-batch one.
  const Vector<double> w0 = vec<double>({0.3, -0.2, 0.8});
  std::vector<Vector<double>> grads;
  PlainGD<double> opt(0.0);
  opt.hook = [&](const std::vector<Parameter<double>*>& p) {
    if (opt.steps == 1) p[0]->value.col(0) = w0;
    else grads.push_back(p[0]->grad.col(0));
  };
  LinearRegression<double> m({.fit_intercept = true, .alpha = alpha});
  m.fit(X, y, opt, {.epochs = 2, .batch_size = 20, .shuffle = false});
  REQUIRE(grads.size() == 3);  // epoch 1 batch 2, epoch 2 batches 1 and 2
  const Vector<double> r = X * w0 - y;
  const Vector<double> full = 2.0 / 40.0 * X.transpose() * r + 2.0 * alpha / 40.0 * w0;
  CHECK(test::rel_error(0.5 * (grads[1] + grads[2]), full) < 1e-13);
  CHECK((grads[0] - grads[2]).norm() < 1e-14);

  // Same seed -> identical, different seed -> different trajectory.
  auto run = [&](std::uint64_t seed) {
    PlainGD<double> o(0.05);
    LinearRegression<double> lr;
    lr.fit(X, y, o, {.epochs = 3, .batch_size = 7, .shuffle = true, .seed = seed});
    return lr.coef();
  };
  CHECK(run(5) == run(5));
  CHECK(run(5) != run(6));
}

TEST_CASE("LinearRegression: any optimizer, mini-batches, no intercept", "[linear_model]") {
  Rng rng(8);
  const Matrix<double> X = random_normal<double>(200, 3, rng);
  const Vector<double> w = vec<double>({1.0, -2.0, 0.5});
  const Vector<double> y = X * w;  // noise free, no intercept: every batch has the same optimum
  LinearRegression<double> m({.fit_intercept = false});
  optim::Adam<double> adam({.lr = 0.05});
  m.fit(X, y, adam, {.epochs = 300, .batch_size = 16, .shuffle = true, .seed = 1});
  CHECK((m.coef() - w).lpNorm<Eigen::Infinity>() < 1e-6);
  CHECK(m.intercept() == 0.0);
}

TEST_CASE("LinearRegression rejects bad input with clear messages", "[linear_model]") {
  CHECK_THROWS_WITH(LinearRegression<double>({.fit_intercept = true, .alpha = -1.0}), Catch::Contains("alpha"));
  const Matrix<double> X = make_x<double>(10, 2);
  Vector<double> y = Vector<double>::Ones(10);
  LinearRegression<double> m;
  CHECK_THROWS_WITH(m.fit(X, Vector<double>::Ones(9)), Catch::Contains("X has 10 rows but y has 9"));
  CHECK_THROWS_WITH(m.fit(Matrix<double>(0, 2), Vector<double>(0)), Catch::Contains("empty"));
  Matrix<double> bad = X;
  bad(3, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(m.fit(bad, y), Catch::Contains("X contains NaN at row 3, column 1"));
  y(2) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(m.fit(X, y), Catch::Contains("y contains Inf"));
  CHECK_THROWS_WITH(m.predict(X), Catch::Contains("not fitted"));
  y(2) = 1.0;
  m.fit(X, y);
  CHECK_THROWS_WITH(m.predict(make_x<double>(3, 3)), Catch::Contains("expected 2 columns"));
  PlainGD<double> opt(0.1);
  CHECK_THROWS_WITH(m.fit(X, y, opt, {.epochs = 0}), Catch::Contains("epochs"));
  CHECK_THROWS_WITH(m.fit(X, Vector<double>::Ones(3), opt, {.epochs = 1}), Catch::Contains("y has 3"));
}

TEST_CASE("LinearRegression accepts expressions and restores from set_params", "[linear_model]") {
  const Matrix<double> X = make_x<double>(30, 3);
  const Vector<double> y = make_y(X);
  const Eigen::MatrixXd Xc = X;  // column-major input
  LinearRegression<double> a, b;
  a.fit(X, y);
  b.fit(Xc, y.array().matrix());
  CHECK((a.coef() - b.coef()).norm() < 1e-14);
  CHECK((a.predict(2.0 * X) - b.predict(2.0 * Xc)).norm() < 1e-12);

  LinearRegression<double> c(a.options());
  c.set_params(a.coef(), a.intercept());
  CHECK(c.n_features() == 3);
  CHECK(c.predict(X) == a.predict(X));
  CHECK_THROWS_WITH(c.set_params(Vector<double>(0), 1.0), Catch::Contains("coef is empty"));
}

TEST_CASE("LinearRegression: large fits (prefix start, SIMD Gram kernels) match a long-double reference",
          "[linear_model]") {
  // Enough rows that the solver starts refinement from a prefix solution and runs its chunked
  // kernels: widths below, inside and above the SIMD kernels' range, columns with non-zero means
  // (algebraic centring) and with large means (explicitly centred chunks), a strided X; y with
  // mean zero against X's large means (the solver's sum of y from its pass would cancel).
  struct Case {
    Index d;
    double mean, alpha;
    bool intercept, strided, y_centred = false;
  };
  for (const Case c : {Case{3, 0.0, 0.0, true, false}, Case{9, 2.0, 0.0, true, false}, Case{13, -1.0, 5.0, true, true},
                       Case{13, 0.0, 0.0, false, false}, Case{21, 1e3, 0.0, true, false},
                       Case{40, 0.5, 1.0, true, true}, Case{9, 50.0, 0.0, true, false, true}}) {
    CAPTURE(c.d, c.mean, c.alpha, c.intercept, c.strided, c.y_centred);
    const Index n = 60000;
    Rng rng(7);
    const Matrix<double> wide = random_normal<double>(n, c.d + 3, rng, c.mean, 1.0);
    const Matrix<double> X = wide.leftCols(c.d);
    const Vector<double> w = random_normal<double>(c.d, 1, rng);
    Vector<double> y = X * w;
    for (Index i = 0; i < n; ++i) y(i) += 0.5 + 0.1 * rng.normal();
    if (c.y_centred) y.array() -= y.mean();
    LinearRegression<double> m({.fit_intercept = c.intercept, .alpha = c.alpha});
    if (c.strided)
      m.fit(wide.leftCols(c.d), y);  // rows of stride d + 3
    else
      m.fit(X, y);
    CHECK(m.used_cholesky());

    // Reference: the centred normal equations in long double (cond(X) is small here).
    using LD = long double;
    const Eigen::Matrix<LD, -1, -1> XL = X.cast<LD>();
    const Eigen::Matrix<LD, -1, 1> yL = y.cast<LD>();
    Eigen::Matrix<LD, 1, -1> mu = Eigen::Matrix<LD, 1, -1>::Zero(c.d);
    LD ybar = 0;
    if (c.intercept) mu = XL.colwise().mean(), ybar = yL.mean();
    const Eigen::Matrix<LD, -1, -1> Xc = XL.rowwise() - mu;
    Eigen::Matrix<LD, -1, -1> G = Xc.transpose() * Xc;
    G.diagonal().array() += static_cast<LD>(c.alpha);
    const Eigen::Matrix<LD, -1, 1> wref = G.llt().solve(Xc.transpose() * (yL.array() - ybar).matrix());
    const LD bref = c.intercept ? ybar - mu.dot(wref) : LD(0);
    const double scale = std::max(1.0, static_cast<double>(wref.cwiseAbs().maxCoeff()));
    CHECK(static_cast<double>((m.coef().cast<LD>() - wref).cwiseAbs().maxCoeff()) < 1e-13 * scale);
    // b = ybar - mu.w rounds to about eps |mu| sum_j |w_j|
    const double w_l1 = static_cast<double>(wref.cwiseAbs().sum());
    CAPTURE(static_cast<double>(static_cast<LD>(m.intercept()) - bref));
    CHECK(std::abs(static_cast<double>(static_cast<LD>(m.intercept()) - bref)) < 1e-13 * (1.0 + std::abs(c.mean) * w_l1));
  }
  {
    // Sorted rows: column 0 is zero over the first half, so the prefix does not determine w.
    Matrix<double> X = make_x<double>(60000, 9);
    X.col(0).head(30000).setZero();
    const Vector<double> w = vec<double>({2.0, -1.0, 0.5, 1.0, 0.0, 3.0, -2.0, 1.5, 0.25});
    const Vector<double> y = (X * w).array() + 0.5;
    LinearRegression<double> m;
    m.fit(X, y);
    CHECK((m.coef() - w).lpNorm<Eigen::Infinity>() < 1e-12);
    CHECK(std::abs(m.intercept() - 0.5) < 1e-12);
  }
  // A non-finite value past the prefix is still caught, by the Gram pass.
  Matrix<double> X = make_x<double>(60000, 9);
  const Vector<double> y = Vector<double>::Ones(60000);
  X(59000, 4) = std::numeric_limits<double>::infinity();
  LinearRegression<double> m;
  CHECK_THROWS_WITH(m.fit(X, y), Catch::Contains("X contains Inf at row 59000, column 4"));
  // And one in y (which has no pass of its own), in the prefix or past it, by the residual sum.
  X(59000, 4) = 0.0;
  for (const bool intercept : {true, false})
    for (const Index row : {Index(100), Index(59000)}) {
      Vector<double> yb = y;
      yb(row) = std::numeric_limits<double>::quiet_NaN();
      LinearRegression<double> mb({.fit_intercept = intercept});
      CHECK_THROWS_WITH(mb.fit(X, yb), Catch::Contains("y contains NaN at row " + std::to_string(row) + ","));
      yb(row) = -std::numeric_limits<double>::infinity();
      CHECK_THROWS_WITH(mb.fit(X, yb), Catch::Contains("y contains Inf at row " + std::to_string(row) + ","));
    }
}
