#include <catch2/catch.hpp>

#include <eigenml/detail/logistic_loss.hpp>
#include <eigenml/linear_model/logistic_regression.hpp>
#include <eigenml/optim/sgd.hpp>
#include <eigenml/random.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "linear_model/linear_model_support.hpp"
#include "support/gradcheck.hpp"

using namespace eigenml;
using eigenml::test::labels2;
using eigenml::test::labels3;
using eigenml::test::make_x;
using eigenml::test::PlainGD;
using eigenml::test::vec;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

template <class T>
T tol_for(double dbl, double flt) {
  return static_cast<T>(std::is_same_v<T, double> ? dbl : flt);
}

// Independent evaluation of the unscaled sklearn objective 0.5 ||W||^2 + C sum loss_i, one sample
// at a time in long double (so it also checks the vectorised, shifted code paths).
double sklearn_objective(const Matrix<double>& X, const Labels& y, const Matrix<double>& W, const Vector<double>& b,
                         double C) {
  long double data = 0;
  for (Index i = 0; i < X.rows(); ++i) {
    if (W.rows() == 1) {
      const long double z = static_cast<long double>(X.row(i).dot(W.row(0)) + b(0));
      data += std::log1p(std::exp(-std::fabs(z))) + std::max(z, 0.0L) - (y(i) == 1 ? z : 0.0L);
    } else {
      long double sum = 0, own = 0;
      for (Index k = 0; k < W.rows(); ++k) {
        const long double z = static_cast<long double>(X.row(i).dot(W.row(k)) + b(k));
        sum += std::exp(z);
        if (k == y(i)) own = z;
      }
      data += std::log(sum) - own;
    }
  }
  const double pen = std::isinf(C) ? 0.0 : 0.5 * W.squaredNorm();
  return std::isinf(C) ? static_cast<double>(data) : pen + C * static_cast<double>(data);
}

}  // namespace

TEST_CASE("LogisticRegression: objective gradients match finite differences", "[linear_model]") {
  const Matrix<double> X = make_x<double>(25, 3);
  Rng rng(11);
  for (int K : {2, 3})
    for (double C : {0.7, inf})
      for (bool fi : {true, false}) {
        const Labels y = K == 2 ? labels2(X) : labels3(X);
        const Index Kr = K == 2 ? 1 : K;
        LogisticRegression<double> m({.fit_intercept = fi, .C = C});
        Matrix<double> W = random_normal<double>(Kr, 3, rng);
        Vector<double> b = fi ? Vector<double>(random_normal<double>(Kr, 1, rng)) : Vector<double>::Zero(Kr);
        m.set_params(W, b);
        Matrix<double> gW, gb;
        const double F = m.objective_and_gradient(X, y, gW, gb);
        // F = f / (C n) (no penalty: mean loss)
        const double f = sklearn_objective(X, y, W, b, C);
        CHECK(F == Approx(std::isinf(C) ? f / 25.0 : f / (C * 25.0)).epsilon(1e-13));
        auto FW = [&] {
          m.set_params(W, b);
          return m.objective(X, y);
        };
        const Matrix<double> numW = test::numeric_gradient(FW, W);
        const Matrix<double> numb = test::numeric_gradient(FW, b);
        INFO("K " << K << " C " << C << " fit_intercept " << fi);
        CHECK(test::rel_error(gW, numW) < 1e-8);
        if (fi) CHECK(test::rel_error(gb, numb) < 1e-8);
        else CHECK(gb.isZero());
      }
}

// Packet types as template arguments: GCC warns that their alignment attributes are dropped
// (harmless, as in detail/logistic_loss.hpp).
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
namespace {

// exp_nonpositive over [-800, 0] (through the subnormal results and the clamp to 0) against
// long double exp, for one packet type: within 1.2 ulp (0.9 with FMA; the ulp of the subnormal
// results is the smallest subnormal).
template <class Packet>
void check_exp_nonpositive(const char* what) {
  namespace ei = Eigen::internal;
  using T = typename ei::unpacket_traits<Packet>::type;
  constexpr int P = ei::unpacket_traits<Packet>::size;
  double worst = 0, worst_x = 0;
  const int count = 40000;
  for (int i = 0; i < count; i += P) {
    T x[P], e[P];
    for (int k = 0; k < P; ++k) {
      // four sweeps: [0, -4), tiny values, [0, -800) and [-80, -110) (float's subnormal results and
      // its clamp)
      const int segment = (i + k) / (count / 4);
      const double u = double((i + k) % (count / 4)) / (count / 4);
      const double span[4][2] = {{0, -4}, {0, -1e-9}, {0, -800}, {-80, -110}};
      x[k] = static_cast<T>(span[segment][0] + u * (span[segment][1] - span[segment][0]));
    }
    ei::pstoreu(e, detail::exp_nonpositive(ei::ploadu<Packet>(x)));
    for (int k = 0; k < P; ++k) {
      const long double ref = std::exp(static_cast<long double>(x[k]));
      const T ref_t = static_cast<T>(ref);
      const long double ulp = std::max<long double>(std::nextafter(ref_t, std::numeric_limits<T>::infinity()) - ref_t,
                                                    std::numeric_limits<T>::denorm_min());
      const double err = static_cast<double>(std::fabs(static_cast<long double>(e[k]) - ref) / ulp);
      if (err > worst) worst = err, worst_x = double(x[k]);
    }
  }
  INFO(what << ": worst " << worst << " ulp at x = " << worst_x);
  CHECK(worst <= 1.2);
}

template <class T>
void check_exp_nonpositive_all(const char* what) {
  namespace ei = Eigen::internal;
  using P1 = typename ei::packet_traits<T>::type;
  using P2 = typename ei::unpacket_traits<P1>::half;
  using P3 = typename ei::unpacket_traits<P2>::half;
  check_exp_nonpositive<P1>(what);
  if constexpr (!std::is_same_v<P2, P1>) check_exp_nonpositive<P2>(what);
  if constexpr (!std::is_same_v<P3, P2>) check_exp_nonpositive<P3>(what);
  check_exp_nonpositive<T>(what);
}

}  // namespace
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

TEST_CASE("LogisticRegression: the binary pass's exp is accurate to about an ulp", "[linear_model]") {
  check_exp_nonpositive_all<double>("double");
  check_exp_nonpositive_all<float>("float");
  CHECK(detail::exp_nonpositive(0.0) == 1.0);
  CHECK(detail::exp_nonpositive(-1e4) == 0.0);
  CHECK(detail::exp_nonpositive(-1e4f) == 0.0f);
}

// The binary objective and gradient are one vectorised pass over the rows, P rows at a time (P:
// the SIMD width, several packets per group) with scalar code for the rows left over and a
// shifted load for the last d mod P columns, r^T X in chunks of up to 4 packets of columns: check
// every such split, rows that are not contiguous (X the left columns of a wider matrix), and
// logits large enough for exp(-|z|) to underflow, against a per-sample evaluation in long double.
TEMPLATE_TEST_CASE("LogisticRegression: binary objective and gradient over many shapes", "[linear_model]", float,
                   double) {
  using T = TestType;
  const double tol = tol_for<T>(1e-12, 2e-5);
  for (Index d : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 20, 24, 28, 32, 33, 50, 64, 70})
    for (Index n : {1, 3, 8, 17, 63, 64, 65, 131, 300})
      for (double scale : {0.5, 400.0}) {
        const Matrix<T> X = make_x<T>(n, d);
        Labels y(n);
        for (Index i = 0; i < n; ++i) y(i) = std::sin(2.1 * double(i) + 0.3) > 0 ? 1 : 0;
        if (y.minCoeff() == y.maxCoeff()) y(0) = 1 - y(0);  // two classes
        Matrix<T> W(1, d);
        for (Index j = 0; j < d; ++j) W(0, j) = static_cast<T>(scale * std::cos(1.1 * double(j) + 0.2));
        Vector<T> b(1);
        b(0) = static_cast<T>(0.3);
        LogisticRegression<T> m({.C = 2.0});
        m.set_params(W, b);
        Matrix<T> gW, gb;
        // odd n: X as a view into a wider matrix, whose other columns would spoil any sum they entered
        Matrix<T> X_wide = Matrix<T>::Constant(n, d + 3, T(1e30));
        X_wide.leftCols(d) = X;
        const T F = n % 2 ? m.objective_and_gradient(X_wide.leftCols(d), y, gW, gb) : m.objective_and_gradient(X, y, gW, gb);

        long double loss = 0, gb_ref = 0;
        std::vector<long double> gw_ref(static_cast<std::size_t>(d), 0.0L);
        for (Index i = 0; i < n; ++i) {
          long double z = b(0);
          for (Index j = 0; j < d; ++j) z += static_cast<long double>(X(i, j)) * W(0, j);
          loss += std::log1p(std::exp(-std::fabs(z))) + std::max(z, 0.0L) - (y(i) == 1 ? z : 0.0L);
          const long double r = 1.0L / (1.0L + std::exp(-z)) - y(i);
          gb_ref += r;
          for (Index j = 0; j < d; ++j) gw_ref[static_cast<std::size_t>(j)] += r * X(i, j);
        }
        const long double nn = static_cast<long double>(n), lambda = 1.0L / (2.0L * nn);
        long double pen = 0;
        for (Index j = 0; j < d; ++j) pen += static_cast<long double>(W(0, j)) * W(0, j);
        const double F_ref = static_cast<double>(loss / nn + 0.5L * lambda * pen);
        Matrix<double> gW_ref(1, d);
        for (Index j = 0; j < d; ++j)
          gW_ref(0, j) = static_cast<double>(gw_ref[static_cast<std::size_t>(j)] / nn + lambda * W(0, j));
        INFO("n " << n << " d " << d << " scale " << scale);
        CHECK(double(F) == Approx(F_ref).epsilon(tol));
        CHECK(test::rel_error(Matrix<double>(gW.template cast<double>()), gW_ref) < tol);
        CHECK(double(gb(0, 0)) == Approx(static_cast<double>(gb_ref / nn)).epsilon(tol).margin(tol));

        // A reported value (an epoch's loss) is accurate to ~eps per sample absolute; the
        // gradient is the same.
        detail::LogisticLoss<T> loss_fn(2);
        Matrix<T> gW_report(1, d), gb_report(1, 1), b_mat(1, 1);
        b_mat(0, 0) = b(0);
        const T lambda_T = static_cast<T>(1.0 / (2.0 * static_cast<double>(n)));
        const T F_report =
            loss_fn.value_grad(X, y, W, b_mat, true, lambda_T, gW_report, gb_report, detail::LossValue::report);
        const double eps = std::numeric_limits<T>::epsilon();
        CHECK(std::abs(double(F_report) - F_ref) <= tol * std::abs(F_ref) + 8 * eps);
        CHECK((gW_report.array() == gW.array()).all());
        CHECK(gb_report(0, 0) == gb(0, 0));
      }
}

TEST_CASE("LogisticRegression: exact fit reaches the optimum (gradient ~0, numpy Newton, sklearn)", "[linear_model]") {
  // Reference values: tests/reference/linear_models.py (sklearn 1.2, lbfgs, tol=1e-14).
  const Matrix<double> X = make_x<double>(60, 4);
  struct Case {
    int K;
    double C;
    bool fi;
    std::vector<double> coef, intercept;  // the optimum (sklearn polished by Newton in numpy)
    std::vector<double> sklearn_coef;     // sklearn's own answer (accurate to ~1e-5 only)
  };
  const std::vector<Case> cases = {
      {2, 1.0, true,
       {1.3344613285292886, -1.4429652837976206, -0.003251690626402041, -0.26952273508744007},
       {-0.1557567978650102},
       {1.334460763479553, -1.4429645138596245, -0.0032524636132933303, -0.2695232572572948}},
      {3, 1.0, true,
       {1.1830032567215962, -0.3816762971528348, -0.6278759082930953, 0.12806513453005433, -0.8463911889720526, 1.824778957625366, -0.26914438191890566, -0.040364397649622775, -0.3366120677495431, -1.443102660472531, 0.8970202902120004, -0.08770073688043124},
       {-0.4497932908924899, -0.12385624863075646, 0.5736495395232464},
       {1.18299160579069, -0.3816884785554549, -0.6278719634183701, 0.12809133462972686, -0.8464059798813675, 1.8247653207474042, -0.26915185027358984, -0.04034801086121483, -0.3365856259093223, -1.4430768421919498, 0.8970238136919598, -0.08774332376851227}},
      {2, 1.0, false,
       {1.3160248987996364, -1.436255209402301, -0.015455166514920316, -0.275722727654575},
       {0.0},
       {1.3160222608710457, -1.4362503442184764, -0.01546683032787457, -0.2757288754634205}},
      {3, 1.0, false,
       {1.0321218359138349, -0.17368144792173104, -0.5673630031114092, 0.044310092363409076, -0.7081777738556939, 1.8224402883810185, -0.4007870977918125, -0.012063554634632288, -0.32394406205814164, -1.6487588404592874, 0.9681501009032221, -0.03224653772877691},
       {0.0, 0.0, 0.0},
       {1.0321297805422496, -0.17368531913617583, -0.5673473151586653, 0.044300112282107396, -0.7081854016126069, 1.8224491892772106, -0.4007698544969904, -0.01206243415568208, -0.3239443789296425, -1.648763870141035, 0.9681171696556556, -0.03223767812642515}},
      {2, 0.1, true,
       {0.2967731022600718, -0.5044942898335039, -0.12967619327343194, -0.054501134755726086},
       {-0.1302953944624816},
       {0.29677171953584447, -0.5044943917362354, -0.12967770314120491, -0.05450092095217349}},
      {3, 0.1, true,
       {0.4324904928892383, -0.04766724584839184, -0.3531101407998069, 0.1940416247875749, -0.13418488371349035, 0.6254822959745312, -0.024887262873750687, 0.05672973369294801, -0.29830560917574805, -0.5778150501261395, 0.37799740367355794, -0.25077135848052295},
       {-0.3471664815966219, -0.06906105934133003, 0.4162275409379519},
       {0.4324930612598669, -0.047669044935658794, -0.3531117703936246, 0.19404040924492674, -0.13418705570472, 0.6254836070398929, -0.024886670455280098, 0.056729537791108745, -0.2983060055551468, -0.577814562104234, 0.37799844084890466, -0.25076994703603556}},
      {2, 0.1, false,
       {0.29519024148969053, -0.5057996114127343, -0.12924482406602408, -0.05646229749010219},
       {0.0},
       {0.2951900256651278, -0.5057997535753007, -0.12924393740383958, -0.05646095013569551}},
      {3, 0.1, false,
       {0.4024911775740361, -0.03419169542368808, -0.32318993580841376, 0.16979418301779484, -0.09247153673481817, 0.6433973486138467, -0.06795550675177804, 0.08864679688433455, -0.31001964083921785, -0.609205653190159, 0.39114544256019174, -0.2584409799021293},
       {0.0, 0.0, 0.0},
       {0.4024916203724305, -0.034190796278647455, -0.32318996150246143, 0.16979347266119232, -0.09247059519917492, 0.643396960858818, -0.06795711093134671, 0.08864475163040646, -0.3100210251732555, -0.6092061645801705, 0.3911470724338081, -0.2584382242915987}},
  };
  for (const auto& c : cases)
    for (auto solver : {LogisticSolver::newton, LogisticSolver::lbfgs}) {
      const Labels y = c.K == 2 ? labels2(X) : labels3(X);
      LogisticRegression<double> m({.fit_intercept = c.fi, .C = c.C, .solver = solver});
      CHECK(&m.fit(X, y) == &m);
      INFO("K " << c.K << " C " << c.C << " fit_intercept " << c.fi << " newton " << m.used_newton());
      CHECK(m.converged());
      CHECK(m.n_iter() > 0);
      CHECK(m.n_classes() == c.K);
      // Truth: the scaled gradient at the returned point is ~0 (recomputed independently).
      Matrix<double> gW, gb;
      m.objective_and_gradient(X, y, gW, gb);
      CHECK(gW.lpNorm<Eigen::Infinity>() < 1e-10);
      CHECK(gb.lpNorm<Eigen::Infinity>() < 1e-10);
      // The optimum (gradient ~1e-17 in numpy) to ~1e-9; sklearn's lbfgs, which also stops on a
      // relative decrease of f (ftol = 64 eps) even at tol=1e-14, to its accuracy of ~1e-5.
      const Index Kr = c.K == 2 ? 1 : c.K;
      const Eigen::Map<const Matrix<double>> ref(c.coef.data(), Kr, 4);
      const Eigen::Map<const Vector<double>> ref_b(c.intercept.data(), Kr);
      const Eigen::Map<const Matrix<double>> sk(c.sklearn_coef.data(), Kr, 4);
      CHECK((m.coef() - ref).lpNorm<Eigen::Infinity>() < 1e-9);
      CHECK((m.intercept() - ref_b).lpNorm<Eigen::Infinity>() < 1e-9);
      CHECK((m.coef() - sk).lpNorm<Eigen::Infinity>() < 1e-4);
    }
}

TEST_CASE("LogisticRegression: Newton and L-BFGS agree to ~1e-9", "[linear_model]") {
  Rng rng(5);
  const Matrix<double> X = random_normal<double>(300, 6, rng);
  Labels y(300);
  for (Index i = 0; i < 300; ++i) y(i) = static_cast<int>(rng.below(4));
  for (int K : {2, 4}) {
    const Labels yk = K == 2 ? Labels((y.array() >= 2).cast<int>()) : y;
    LogisticRegression<double> a({.C = 10.0, .solver = LogisticSolver::newton});
    LogisticRegression<double> b({.C = 10.0, .solver = LogisticSolver::lbfgs});
    a.fit(X, yk);
    b.fit(X, yk);
    CHECK(a.converged());
    CHECK(b.converged());
    CHECK(a.final_gradient_max() < 1e-10);
    CHECK((a.coef() - b.coef()).lpNorm<Eigen::Infinity>() < 1e-8);
    CHECK((a.intercept() - b.intercept()).lpNorm<Eigen::Infinity>() < 1e-8);
  }
}

TEST_CASE("LogisticRegression: the intercept is not penalised", "[linear_model]") {
  // Stationarity in b has no penalty term: sum_i (p_i - y_i) = 0, i.e. the mean predicted
  // probability of each class equals its frequency, however strong the penalty on W.
  const Matrix<double> X = make_x<double>(60, 4);
  for (int K : {2, 3}) {
    const Labels y = K == 2 ? labels2(X) : labels3(X);
    LogisticRegression<double> m({.fit_intercept = true, .C = 1e-3});
    m.fit(X, y);
    const Matrix<double> P = m.predict_proba(X);
    for (int k = 0; k < K; ++k) {
      const double freq = static_cast<double>((y.array() == k).count()) / 60.0;
      CHECK(P.col(k).mean() == Approx(freq).epsilon(1e-9));
    }
    // A penalised constant feature instead of the intercept gives a different (shrunk) model.
    Matrix<double> X1(60, 5);
    X1 << X, Vector<double>::Ones(60);
    LogisticRegression<double> n({.fit_intercept = false, .C = 1e-3});
    n.fit(X1, y);
    const Matrix<double> P1 = n.predict_proba(X1);
    double worst = 0;
    for (int k = 0; k < K; ++k)
      worst = std::max(worst, std::abs(P1.col(k).mean() - static_cast<double>((y.array() == k).count()) / 60.0));
    CHECK(worst > 1e-3);
  }
}

TEST_CASE("LogisticRegression: multinomial intercepts are centred", "[linear_model]") {
  const Matrix<double> X = make_x<double>(60, 4);
  const Labels y = labels3(X);
  LogisticRegression<double> m({.C = inf});
  m.fit(X, y);
  CHECK(m.converged());
  CHECK(std::abs(m.intercept().sum()) < 1e-12);
  CHECK(m.coef().rows() == 3);
  const Matrix<double> P = m.predict_proba(X);
  CHECK((P.rowwise().sum().array() - 1.0).abs().maxCoeff() < 1e-14);
}

TEST_CASE("LogisticRegression: separable data without penalty stops cleanly", "[linear_model]") {
  Rng rng(2);
  const Matrix<double> X = random_normal<double>(80, 2, rng);
  Labels y2(80), y3(80);
  for (Index i = 0; i < 80; ++i) {
    y2(i) = X(i, 0) > 0;
    y3(i) = X(i, 0) > 0.5 ? 2 : (X(i, 0) > -0.5 ? 1 : 0);
  }
  for (const Labels* y : {&y2, &y3})
    for (auto solver : {LogisticSolver::newton, LogisticSolver::lbfgs}) {
      LogisticRegression<double> m({.fit_intercept = true, .C = inf, .solver = solver});
      m.fit(X, *y);
      CHECK_FALSE(m.converged());
      CHECK(m.separable());
      CHECK(m.coef().allFinite());
      CHECK(m.intercept().allFinite());
      CHECK(m.predict_proba(X).allFinite());
      CHECK(m.score(X, *y) == 1.0);
      // With a penalty the same data have a finite optimum.
      LogisticRegression<double> p({.fit_intercept = true, .C = 1.0, .solver = solver});
      p.fit(X, *y);
      CHECK(p.converged());
      CHECK_FALSE(p.separable());
    }
}

TEMPLATE_TEST_CASE("LogisticRegression: full-batch gradient descent reaches the exact fit", "[linear_model]", float,
                   double) {
  using T = TestType;
  const Matrix<T> X = make_x<T>(60, 4);
  for (int K : {2, 3}) {
    const Labels y = K == 2 ? labels2(X) : labels3(X);
    LogisticRegression<T> exact({.fit_intercept = true, .C = 0.1}), gd({.fit_intercept = true, .C = 0.1});
    exact.fit(X, y);
    CHECK(exact.converged());
    optim::SGD<T> opt({.lr = 2.0});
    gd.fit(X, y, opt, {.epochs = 3000, .batch_size = 0});
    INFO("K " << K);
    CHECK((gd.coef() - exact.coef()).template lpNorm<Eigen::Infinity>() < tol_for<T>(1e-9, 2e-4));
    CHECK((gd.intercept() - exact.intercept()).template lpNorm<Eigen::Infinity>() < tol_for<T>(1e-9, 2e-4));
    CHECK(gd.history().loss.back() < gd.history().loss.front());
    CHECK(gd.history().loss.front() == Approx(std::log(static_cast<double>(K))).epsilon(1e-6));  // zero start
  }
}

TEST_CASE("LogisticRegression: one full-batch epoch is one gradient step from zero", "[linear_model]") {
  const Matrix<double> X = make_x<double>(20, 3);
  const Labels y = labels2(X);
  LogisticRegression<double> m({.C = 2.0});
  optim::SGD<double> opt({.lr = 0.5});
  m.fit(X, y, opt, {.epochs = 1, .batch_size = 0});
  // At W = 0, b = 0: p = 1/2, grad_W = (1/n) (p - y)^T X (the penalty gradient W/(C n) is 0).
  const Vector<double> r = (0.5 - y.cast<double>().array()).matrix() / 20.0;
  CHECK((m.coef() - (-0.5 * r.transpose() * X)).lpNorm<Eigen::Infinity>() < 1e-15);
  CHECK(m.intercept()(0) == Approx(-0.5 * r.sum()).margin(1e-15));
}

TEST_CASE("LogisticRegression: mini-batch gradients are unbiased, seeded and penalised by 1/(C n)",
          "[linear_model]") {
  const Matrix<double> X = make_x<double>(40, 3);
  const Labels y = labels3(X);
  const double C = 0.5;
  Rng rng(9);
  const Matrix<double> W0 = random_normal<double>(3, 3, rng);
  std::vector<Matrix<double>> grads;
  PlainGD<double> opt(0.0);
  opt.hook = [&](const std::vector<Parameter<double>*>& p) {
    if (opt.steps == 1) p[0]->value = W0;
    else grads.push_back(p[0]->grad);
  };
  LogisticRegression<double> m({.fit_intercept = true, .C = C});
  m.fit(X, y, opt, {.epochs = 2, .batch_size = 20, .shuffle = false});
  REQUIRE(grads.size() == 3);
  LogisticRegression<double> ref({.fit_intercept = true, .C = C});
  ref.set_params(W0, Vector<double>::Zero(3));
  Matrix<double> gW, gb;
  ref.objective_and_gradient(X, y, gW, gb);
  CHECK(test::rel_error(0.5 * (grads[1] + grads[2]), gW) < 1e-13);

  auto run = [&](std::uint64_t seed) {
    PlainGD<double> o(0.5);
    LogisticRegression<double> c;
    c.fit(X, y, o, {.epochs = 3, .batch_size = 7, .shuffle = true, .seed = seed});
    return c.coef();
  };
  CHECK(run(4) == run(4));
  CHECK(run(4) != run(8));
}

TEMPLATE_TEST_CASE("LogisticRegression: predictions are consistent", "[linear_model]", float, double) {
  using T = TestType;
  const Matrix<T> X = make_x<T>(60, 4);
  for (int K : {2, 3}) {
    const Labels y = K == 2 ? labels2(X) : labels3(X);
    LogisticRegression<T> m;
    m.fit(X, y);
    CHECK(m.converged());
    const Matrix<T> P = m.predict_proba(X);
    REQUIRE(P.rows() == 60);
    REQUIRE(P.cols() == K);
    CHECK((P.rowwise().sum().array() - T(1)).abs().maxCoeff() < tol_for<T>(1e-14, 1e-6));
    const Labels pred = m.predict(X);
    for (Index i = 0; i < 60; ++i) {
      Index k;
      P.row(i).maxCoeff(&k);
      CHECK(pred(i) == k);
    }
    const Matrix<T> Z = m.decision_function(X);
    CHECK(Z.cols() == (K == 2 ? 1 : K));
    const double acc = m.score(X, y);
    CHECK(acc == Approx(static_cast<double>((pred.array() == y.array()).count()) / 60.0));
    CHECK(acc > 0.6);
  }
  // Extreme logits stay finite.
  LogisticRegression<T> big;
  Matrix<T> W(1, 1);
  W << T(1e4);
  big.set_params(W, vec<T>({0.0}));
  Matrix<T> x(2, 1);
  x << T(1), T(-1);
  const Matrix<T> P = big.predict_proba(x);
  CHECK(P.allFinite());
  CHECK(P(0, 1) == T(1));
  CHECK(P(1, 0) == T(1));
}

TEST_CASE("LogisticRegression: float exact fit is close to the double optimum", "[linear_model]") {
  const Matrix<double> X = make_x<double>(60, 4);
  for (int K : {2, 3}) {
    const Labels y = K == 2 ? labels2(X) : labels3(X);
    LogisticRegression<double> d;
    LogisticRegression<float> f;
    d.fit(X, y);
    f.fit(Matrix<float>(X.cast<float>()), y);
    CHECK(f.converged());
    CHECK((f.coef().cast<double>() - d.coef()).lpNorm<Eigen::Infinity>() < 1e-3);
  }
}

TEST_CASE("LogisticRegression rejects bad input with clear messages", "[linear_model]") {
  CHECK_THROWS_WITH(LogisticRegression<double>({.fit_intercept = true, .C = 0.0}), Catch::Contains("C"));
  CHECK_THROWS_WITH(LogisticRegression<double>({.fit_intercept = true, .C = -1.0}), Catch::Contains("C"));
  CHECK_THROWS_WITH((LogisticRegression<double>({.C = 1.0, .tol = 0.0})), Catch::Contains("tol"));
  const Matrix<double> X = make_x<double>(10, 2);
  Labels y = labels2(X);
  LogisticRegression<double> m;
  CHECK_THROWS_WITH(m.fit(X, Labels(Labels::Zero(10))), Catch::Contains("single class"));
  CHECK_THROWS_WITH(m.fit(X, Labels(Labels::Ones(10))), Catch::Contains("single class"));
  CHECK_THROWS_WITH(m.fit(X, Labels(9)), Catch::Contains("X has 10 rows but labels has 9"));
  CHECK_THROWS_WITH(m.fit(Matrix<double>(0, 2), Labels(0)), Catch::Contains("empty"));
  Labels neg = y;
  neg(4) = -1;
  CHECK_THROWS_WITH(m.fit(X, neg), Catch::Contains("found -1"));
  Matrix<double> bad = X;
  bad(2, 0) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(m.fit(bad, y), Catch::Contains("X contains NaN at row 2, column 0"));
  CHECK_THROWS_WITH(m.predict(X), Catch::Contains("not fitted"));
  m.fit(X, y);
  CHECK_THROWS_WITH(m.predict_proba(make_x<double>(2, 3)), Catch::Contains("expected 2 columns"));
  Labels three = y;
  three(0) = 2;  // outside 0..1 for the fitted binary model
  Matrix<double> gW, gb;
  CHECK_THROWS_WITH(m.objective_and_gradient(X, three, gW, gb), Catch::Contains("outside 0..1"));
  PlainGD<double> opt(0.1);
  CHECK_THROWS_WITH(m.fit(X, y, opt, {.epochs = 1, .batch_size = -2}), Catch::Contains("batch_size"));
  CHECK_THROWS_WITH(m.set_params(Matrix<double>::Ones(2, 2), Vector<double>::Zero(2)), Catch::Contains("2 rows"));
  CHECK_THROWS_WITH(m.set_params(Matrix<double>::Ones(3, 2), Vector<double>::Zero(2)),
                    Catch::Contains("intercept has 2 values"));
}

TEST_CASE("LogisticRegression restores from set_params", "[linear_model]") {
  const Matrix<double> X = make_x<double>(60, 4);
  const Labels y = labels3(X);
  LogisticRegression<double> a;
  a.fit(X, y);
  LogisticRegression<double> b(a.options());
  b.set_params(a.coef(), a.intercept());
  CHECK(b.n_classes() == 3);
  CHECK(b.n_features() == 4);
  CHECK(b.predict_proba(X) == a.predict_proba(X));
  const Eigen::MatrixXd Xc = X;  // column-major expression input
  CHECK((b.predict_proba(Xc) - a.predict_proba(X)).norm() < 1e-14);
}
