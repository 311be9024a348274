#include "optim_test_support.hpp"  // first: configures Eigen's allocation check

#include <cmath>

using namespace eigenml;
using eigenml::test::check_trajectory;

namespace {
// Produced by tests/reference/optim_reference.py (torch.optim, PyTorch 1.13, float64): the
// values of P0 (row-major) and P1 after steps 1..5 of OptimProblem.
// torch.optim.RMSprop defaults (lr=0.01 alpha=0.99 eps=1e-8)
constexpr double rmsprop_default[5][9] = {
    {0.5999999898734187, -0.9000000047619046, 1.9000000014705882, 0.09999999000000095, 1.4000000042780747, -0.15000000665972904, 0.9000000024390243, -1.9000000018867924, 0.8499999959313416},
    {0.6620971430185179, -0.8332538269433367, 1.8307989076315727, 0.16265606446792155, 1.3334375764817288, -0.084348337783749, 0.8311491328596546, -1.8312980758299726, 0.9175214014185183},
    {0.7081325648275368, -0.7807061032082354, 1.774970879264, 0.20954098657850645, 1.2811125456338874, -0.033338560561004434, 0.7757979020250525, -1.7761258206807515, 0.9709992544947306},
    {0.7446425208673779, -0.7365027837722162, 1.7270324644033843, 0.2471060548739071, 1.2371421085352727, 0.009041149366326703, 0.7284098113087687, -1.7289223733674737, 1.01616641633658},
    {0.7746174017924915, -0.6979566846076324, 1.6844400257815169, 0.27829422496936995, 1.1988291654908856, 0.04554415607253923, 0.6864201777698767, -1.6871146557361691, 1.0556695985594196},
};
// torch.optim.RMSprop lr=0.02 alpha=0.9 eps=1e-2 weight_decay=0.1
constexpr double rmsprop_alpha_eps_wd[5][9] = {
    {0.561181831197975, -0.9376506556097749, 1.937038876161452, 0.06130686006343103, 1.4375483739599197, -0.18803799120565282, 0.9372270787171946, -1.9371160043504951, 0.8124172021519305},
    {0.6024998047731256, -0.8937895637240442, 1.8919585867938478, 0.10306116273383553, 1.3936687292693009, -0.1448319517723379, 0.8923892668626381, -1.8922588041920119, 0.8564990802841549},
    {0.6353166175551195, -0.8577948625886967, 1.854514327696056, 0.13646993958647255, 1.3576783739358063, -0.1096188696121273, 0.8552117828060807, -1.855088199546656, 0.8927447323780043},
    {0.6631085186574485, -0.8263537429979487, 1.8214770910243352, 0.16497388409834546, 1.3262506815856119, -0.07905465426709099, 0.8224592438359316, -1.8223536074824307, 0.9244419451793634},
    {0.6874563689878486, -0.7979423267308594, 1.7913538412417351, 0.19014123235682698, 1.2978564827349428, -0.05160452561012996, 0.7926363516000685, -1.792553864520702, 0.95310568742326},
};
// torch.optim.RMSprop lr=0.01 centered
constexpr double rmsprop_centered[5][9] = {
    {0.6005037712970512, -0.8994962232840834, 1.8994962199595216, 0.10050377142491208, 1.3994962227953665, -0.1494962252010778, 0.8994962209377397, -1.8994962203799297, 0.8505037774161652},
    {0.6631666431973363, -0.8321006575402268, 1.8296052492450796, 0.16373627086286313, 1.3322874350439298, -0.08321425021826315, 0.8299611402182959, -1.8301124142025902, 0.918687175944341},
    {0.7097692969530788, -0.7788068659896693, 1.7729479998470021, 0.2112131156661945, 1.2792217950195766, -0.031499799077508016, 0.7737926287063721, -1.7741270453141236, 0.9729335795093018},
    {0.746813851430153, -0.7337871484537352, 1.724064939218038, 0.24935301219291434, 1.2344424750386342, 0.011629873814949211, 0.7254786616038433, -1.726003373535916, 1.018947799842593},
    {0.777269134909536, -0.6943718464657738, 1.6804275755079106, 0.2810775792260072, 1.1952695873423884, 0.04890827872226731, 0.6824702308556881, -1.6831836927010075, 1.05935763765649},
};
// torch.optim.RMSprop lr=0.01 momentum=0.9
constexpr double rmsprop_momentum[5][9] = {
    {0.5999999898734187, -0.9000000047619046, 1.9000000014705882, 0.09999999000000097, 1.4000000042780747, -0.15000000665972904, 0.9000000024390243, -1.9000000018867924, 0.8499999959313415},
    {0.7520971339045947, -0.7432538312290509, 1.7407989089551021, 0.2526560554679224, 1.2434375803319961, 0.005651656222494858, 0.7411491350547765, -1.7412980775280857, 1.0075213977567257},
    {0.9231404249187382, -0.5541834865657523, 1.54335211489867, 0.42623298833557827, 1.0549140510013058, 0.19058029200414614, 0.5449121979574101, -1.5454875146367728, 1.1988585061628316},
    {1.0827541603559934, -0.3505324344921747, 1.3213504888454295, 0.5927086711331685, 0.8522268343211946, 0.38413716383362956, 0.32561308836127884, -1.326909143345133, 1.406451641323754},
    {1.2047117242114762, -0.14660551570193, 1.0845856358357957, 0.7275016191999738, 0.6495183371256575, 0.568257380048722, 0.0938180807583456, -1.0959780872995077, 1.615335883487895},
};
// torch.optim.RMSprop lr=0.01 alpha=0.9 centered momentum=0.5 weight_decay=0.05
constexpr double rmsprop_centered_momentum_wd[5][9] = {
    {0.5333333321789322, -0.9666666671834625, 1.9666666668276973, 0.03333333222222226, 1.4666666671272308, -0.21666666740052745, 0.9666666669344043, -1.966666666872428, 0.7833333328742558},
    {0.5745416784086875, -0.9249612356894021, 1.924700302812269, 0.0746156856311323, 1.4249762070946177, -0.1750804702422557, 0.9247399853989442, -1.924754247300168, 0.8251105795662372},
    {0.615601073564933, -0.8825490828093707, 1.8816089530187687, 0.11588556768458688, 1.3826012555111353, -0.13298904921018515, 0.8817521046394727, -1.8818015099293457, 0.8677005049298209},
    {0.6540439417936543, -0.8416811102810615, 1.8395787036209665, 0.15472235614235919, 1.341793590722126, -0.09268929466699372, 0.8398992562648134, -1.8400051404343027, 0.9088557122402042},
    {0.6893516772419911, -0.8027262681855024, 1.7989552459587235, 0.19064623843588444, 1.3029202422144082, -0.05457951544555441, 0.7995309438020759, -1.7997124492606826, 0.948197663344563},
};
}  // namespace

TEMPLATE_TEST_CASE("RMSprop follows torch.optim.RMSprop step by step", "[optim][rmsprop]", float, double) {
  using T = TestType;
  SECTION("defaults") {
    optim::RMSprop<T> opt;
    check_trajectory(opt, rmsprop_default);
  }
  SECTION("alpha, eps outside the root, weight decay") {
    optim::RMSprop<T> opt({.lr = 0.02, .alpha = 0.9, .eps = 1e-2, .weight_decay = 0.1});
    check_trajectory(opt, rmsprop_alpha_eps_wd);
  }
  SECTION("centered") {
    optim::RMSprop<T> opt({.lr = 0.01, .centered = true});
    check_trajectory(opt, rmsprop_centered);
  }
  SECTION("momentum") {
    optim::RMSprop<T> opt({.lr = 0.01, .momentum = 0.9});
    check_trajectory(opt, rmsprop_momentum);
  }
  SECTION("centered with momentum and weight decay") {
    optim::RMSprop<T> opt({.lr = 0.01, .alpha = 0.9, .weight_decay = 0.05, .momentum = 0.5, .centered = true});
    check_trajectory(opt, rmsprop_centered_momentum_wd);
  }
}

TEMPLATE_TEST_CASE("RMSprop steps computed by hand from the rule", "[optim][rmsprop]", float, double) {
  using T = TestType;
  Parameter<T> p(1, 1);
  const std::vector<Parameter<T>*> params{&p};
  p.value(0, 0) = 1;
  p.grad(0, 0) = 2;
  SECTION("eps outside the square root") {
    optim::RMSprop<T> opt({.lr = 0.1, .alpha = 0.75, .eps = 0.5});
    opt.step(params);
    // s_1 = 0.25 * 4 = 1: p = 1 - 0.1 * 2 / (1 + 0.5)
    CHECK(p.value(0, 0) == Approx(1 - 0.2 / 1.5));
    CHECK(opt.square_avg(0)(0, 0) == Approx(1));
  }
  SECTION("centered subtracts the squared mean gradient") {
    optim::RMSprop<T> opt({.lr = 0.1, .alpha = 0.75, .eps = 0, .centered = true});
    opt.step(params);
    // s_1 = 1, a_1 = 0.5: p = 1 - 0.1 * 2 / sqrt(1 - 0.25)
    CHECK(p.value(0, 0) == Approx(1 - 0.2 / std::sqrt(0.75)));
  }
}

TEMPLATE_TEST_CASE("centered RMSprop stays finite under a constant gradient", "[optim][rmsprop]", float, double) {
  // s_t and a_t^2 converge to the same value; rounding then leaves s_t - a_t^2 slightly negative
  // (in float from about step 1200 for these gradients), which PyTorch turns into NaN.
  using T = TestType;
  for (const bool momentum : {false, true}) {
    optim::RMSprop<T> opt({.lr = 1e-3, .momentum = momentum ? 0.5 : 0.0, .centered = true});
    Parameter<T> p(1, 3);
    p.value.setZero();
    for (int t = 0; t < 3000; ++t) {
      p.grad << T(0.1), T(123), T(1);  // a fresh copy each step: the same gradient every time
      opt.step({&p});
    }
    INFO("momentum " << momentum);
    CHECK(p.value.allFinite());
  }
}

TEST_CASE("RMSprop validates its options, naming the field", "[optim][rmsprop]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(optim::RMSprop<double>({.lr = -1}), Contains("lr"));
  CHECK_THROWS_WITH((optim::RMSprop<double>({.lr = 0.01, .alpha = -0.1})), Contains("alpha"));
  CHECK_THROWS_WITH((optim::RMSprop<double>({.lr = 0.01, .alpha = 1.5})), Contains("alpha"));
  CHECK_THROWS_WITH((optim::RMSprop<double>({.lr = 0.01, .alpha = 0.9, .eps = -1})), Contains("eps"));
  CHECK_THROWS_WITH((optim::RMSprop<float>({.lr = 0.01, .weight_decay = -1})), Contains("weight_decay"));
  CHECK_THROWS_WITH((optim::RMSprop<float>({.lr = 0.01, .momentum = -1})), Contains("momentum"));
  const optim::RMSprop<float> opt;
  CHECK(opt.options().lr == 1e-2);
  CHECK(opt.options().alpha == 0.99);
  CHECK(opt.options().eps == 1e-8);
  CHECK_FALSE(opt.options().centered);
}
