#include "optim_test_support.hpp"  // first: configures Eigen's allocation check

using namespace eigenml;
using eigenml::test::check_trajectory;

namespace {
// Produced by tests/reference/optim_reference.py (torch.optim, PyTorch 1.13, float64): the
// values of P0 (row-major) and P1 after steps 1..5 of OptimProblem.
// torch.optim.SGD lr=0.1
constexpr double sgd_plain[5][9] = {
    {0.59875, -0.7899999999999999, 1.32, 0.1, 1.26625, -0.09984375, 0.59, -1.47, 0.9957812500000001},
    {0.6768534718945313, -0.6270696099999999, 0.8330003199999999, 0.17999, 1.0926970859960938, 0.02013495319820406, 0.26994620999999996, -1.09423477, 1.1867510293153},
    {0.7383819044919925, -0.49918994810756107, 0.4606201539686629, 0.24393368971946003, 0.9611110084958, 0.11610788092817287, 0.015760255615295246, -0.8122859989153005, 1.3326868829743581},
    {0.7866798075841909, -0.39810802403779655, 0.16751882112779712, 0.29500180233885037, 0.860010694071046, 0.1928706521926514, -0.18739183465397824, -0.5944692667094067, 1.4424802633150402},
    {0.8244753591348002, -0.31785545782770397, -0.06603195315980041, 0.3357447134155954, 0.7816477579738379, 0.25422477562956536, -0.3498476637692726, -0.4234745963766672, 1.5239698125254475},
};
// torch.optim.SGD lr=0.1 momentum=0.9
constexpr double sgd_momentum[5][9] = {
    {0.59875, -0.7899999999999999, 1.32, 0.1, 1.26625, -0.09984375, 0.59, -1.47, 0.9957812500000001},
    {0.7657284718945313, -0.43806960999999994, 0.22100032, 0.26999, 0.8823220859960939, 0.15527557819820406, -0.09905379000000007, -0.6172347699999999, 1.4079541543153},
    {0.9583736291889967, -0.032877659588500786, -1.0124073950788743, 0.46878619186919, 0.4534537370152883, 0.4537904202106148, -0.8993817241855316, 0.3260524243810402, 1.869408570749814},
    {1.1312770746810556, 0.3383709830874866, -2.1096160003777684, 0.6529153193280338, 0.07584908263312416, 0.7307612226739489, -1.6325255338989042, 1.1594537875172828, 2.2455058268381936},
    {1.246156814478883, 0.6044331472845594, -2.781292513879383, 0.7852651025229358, -0.17916928649838212, 0.9299803479946874, -2.122340771069672, 1.7120373359610634, 2.421667132069273},
};
// torch.optim.SGD lr=0.1 momentum=0.9 dampening=0.5
constexpr double sgd_dampening[5][9] = {
    {0.59875, -0.7899999999999999, 1.32, 0.1, 1.26625, -0.09984375, 0.59, -1.47, 0.9957812500000001},
    {0.7266767359472657, -0.5195348049999999, 0.46450015999999994, 0.229995, 0.969098542998047, 0.09528622659910202, 0.060973104999999965, -0.805117385, 1.3124692646576501},
    {0.8672244834670764, -0.22346149414345343, -0.45240081569844987, 0.37393016896741377, 0.6502017232898545, 0.31137025713859645, -0.5212495444045174, -0.0986018511823882, 1.6549374139209911},
    {1.00373390429149, 0.06540642783431666, -1.331908655803902, 0.5158173825092728, 0.34680000940535555, 0.524557919940891, -1.092416854087654, 0.572127107567943, 1.9750021462661862},
    {1.1211627746490305, 0.31884551578712444, -2.0784609452876888, 0.6412479250529658, 0.08884991735564315, 0.7132493350299944, -1.5907074348546488, 1.1426340894943776, 2.2270413932984137},
};
// torch.optim.SGD lr=0.05 momentum=0.9 nesterov weight_decay=0.01
constexpr double sgd_nesterov_wd[5][9] = {
    {0.5933375, -0.79955, 1.3521, 0.095, 1.2765125, -0.10711406250000001, 0.60955, -1.4946, 0.9827796875},
    {0.7078465553842435, -0.5565651308838656, 0.6042236961122706, 0.21235160493750002, 1.0127256475542639, 0.06926557415075837, 0.13454987666290322, -0.9145286599059079, 1.265337938473713},
    {0.8269794507981487, -0.30458420819358656, -0.1529162522656392, 0.3359251502704021, 0.7468910137543562, 0.2550838314475249, -0.36251272067107954, -0.33577950349342556, 1.5519418935970015},
    {0.9365351527808626, -0.07048971937013684, -0.8494641729800388, 0.4518866033027313, 0.5073378529282742, 0.4297208935362429, -0.8280136786912179, 0.1884104218812222, 1.8015986053877777},
    {1.0258456251514123, 0.12598186286538354, -1.4221763223491188, 0.5496425574016, 0.3130545104950919, 0.5772322204907696, -1.2164659125419968, 0.6185992269477694, 1.9839162895485996},
};
// torch.optim.SGD lr=0.1 momentum=0.8 weight_decay=0.05 dampening=0.1
constexpr double sgd_momentum_wd_dampening[5][9] = {
    {0.5962500000000001, -0.785, 1.31, 0.1, 1.25875, -0.09859375000000001, 0.5850000000000001, -1.46, 0.99203125},
    {0.7413340976621094, -0.463813870375, 0.31607218100000006, 0.251541, 0.9055607693613281, 0.13073042250182726, -0.03673431462499998, -0.6856207759999999, 1.3538399306528435},
    {0.8969584582902788, -0.12039331303086857, -0.7176695767110163, 0.41622124400046884, 0.5392500559213463, 0.3800498893837624, -0.7073438391498668, 0.10828028028414116, 1.7311705416147811},
    {1.0294744052099685, 0.17657140452049808, -1.5889262269830788, 0.5605236637036187, 0.23529857011536157, 0.5988922157637392, -1.290141338575749, 0.7684119876936502, 2.026939958963468},
    {1.1157296395981227, 0.38151620899502403, -2.1366707921859276, 0.6609640013999554, 0.03860754865299581, 0.7515372108539105, -1.6790217090122734, 1.1956619138773539, 2.1746361877627614},
};
}  // namespace

TEMPLATE_TEST_CASE("SGD follows torch.optim.SGD step by step", "[optim][sgd]", float, double) {
  using T = TestType;
  SECTION("plain") {
    optim::SGD<T> opt({.lr = 0.1});
    check_trajectory(opt, sgd_plain);
  }
  SECTION("momentum: the first buffer is the gradient itself") {
    optim::SGD<T> opt({.lr = 0.1, .momentum = 0.9});
    check_trajectory(opt, sgd_momentum);
  }
  SECTION("momentum with dampening (undamped first buffer)") {
    optim::SGD<T> opt({.lr = 0.1, .momentum = 0.9, .nesterov = false, .weight_decay = 0, .dampening = 0.5});
    check_trajectory(opt, sgd_dampening);
  }
  SECTION("Nesterov momentum with weight decay") {
    optim::SGD<T> opt({.lr = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 0.01});
    check_trajectory(opt, sgd_nesterov_wd);
  }
  SECTION("momentum, weight decay and dampening together") {
    optim::SGD<T> opt({.lr = 0.1, .momentum = 0.8, .weight_decay = 0.05, .dampening = 0.1});
    check_trajectory(opt, sgd_momentum_wd_dampening);
  }
}

TEMPLATE_TEST_CASE("SGD steps computed by hand from the rule", "[optim][sgd]", float, double) {
  using T = TestType;
  Parameter<T> p(1, 1);
  const std::vector<Parameter<T>*> params{&p};

  SECTION("momentum and weight decay") {
    optim::SGD<T> opt({.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
    p.value(0, 0) = 2;
    p.grad(0, 0) = 1;
    opt.step(params);
    // d = 1 + 0.1 * 2 = 1.2; b_1 = d = 1.2; p = 2 - 0.1 * 1.2 = 1.88
    CHECK(p.value(0, 0) == Approx(1.88));
    CHECK(opt.momentum_buffer(0)(0, 0) == Approx(1.2));
    opt.step(params);
    // d = 1 + 0.1 * 1.88 = 1.188; b_2 = 0.9 * 1.2 + 1.188 = 2.268; p = 1.88 - 0.2268 = 1.6532
    CHECK(opt.momentum_buffer(0)(0, 0) == Approx(2.268));
    CHECK(p.value(0, 0) == Approx(1.6532));
  }
  SECTION("Nesterov") {
    optim::SGD<T> opt({.lr = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 0.1});
    p.value(0, 0) = 2;
    p.grad(0, 0) = 1;
    opt.step(params);
    // d = 1.2; b_1 = 1.2; step direction d + 0.9 b_1 = 2.28; p = 2 - 0.228 = 1.772
    CHECK(p.value(0, 0) == Approx(1.772));
  }
  SECTION("dampening applies from the second step on") {
    optim::SGD<T> opt({.lr = 1, .momentum = 0.5, .dampening = 0.75});
    p.value(0, 0) = 0;
    p.grad(0, 0) = 4;
    opt.step(params);
    CHECK(p.value(0, 0) == Approx(-4));  // b_1 = 4 (not 0.25 * 4)
    opt.step(params);
    CHECK(p.value(0, 0) == Approx(-7));  // b_2 = 0.5 * 4 + 0.25 * 4 = 3
  }
  SECTION("set_lr takes effect at the next step") {
    optim::SGD<T> opt({.lr = 0.5});
    p.value(0, 0) = 1;
    p.grad(0, 0) = 1;
    opt.set_lr(T(0.25));
    opt.step(params);
    CHECK(p.value(0, 0) == Approx(0.75));
    CHECK(opt.options().lr == 0.5);
  }
}

TEST_CASE("SGD validates its options, naming the field", "[optim][sgd]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(optim::SGD<double>(optim::SGDOptions{}), Contains("lr is required"));
  CHECK_THROWS_WITH(optim::SGD<double>({.momentum = 0.9}), Contains("lr is required"));
  CHECK_THROWS_WITH(optim::SGD<double>({.lr = -0.1}), Contains("lr must be"));
  CHECK_THROWS_WITH((optim::SGD<double>({.lr = 0.1, .momentum = -0.5})), Contains("momentum"));
  CHECK_THROWS_WITH((optim::SGD<double>({.lr = 0.1, .momentum = 0.9, .weight_decay = -1})), Contains("weight_decay"));
  CHECK_THROWS_WITH((optim::SGD<double>({.lr = 0.1, .nesterov = true})), Contains("nesterov requires momentum > 0"));
  CHECK_THROWS_WITH((optim::SGD<double>({.lr = 0.1, .momentum = 0.9, .nesterov = true, .dampening = 0.1})),
                    Contains("nesterov requires dampening == 0"));
  CHECK_THROWS_AS((optim::SGD<float>({.lr = std::numeric_limits<double>::infinity()})), std::invalid_argument);
  CHECK_NOTHROW(optim::SGD<float>({.lr = 0.1}));
  CHECK_NOTHROW(optim::SGD<float>({.lr = 0}));  // as torch: lr = 0 is allowed
  const optim::SGD<float> opt({.lr = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-4});
  CHECK(opt.options().momentum == 0.9);
  CHECK(opt.options().nesterov);
  CHECK(opt.lr() == 0.1f);
}
