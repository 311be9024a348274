#include "optim_test_support.hpp"  // first: configures Eigen's allocation check

#include <cmath>

using namespace eigenml;
using eigenml::test::check_trajectory;

namespace {
// Produced by tests/reference/optim_reference.py (torch.optim, PyTorch 1.13, float64): the
// values of P0 (row-major) and P1 after steps 1..5 of OptimProblem.
// torch.optim.Adagrad lr=0.1
constexpr double adagrad_default[5][9] = {
    {0.5999999999898734, -0.9000000000047619, 1.9000000000014705, 0.09999999999, 1.400000000004278, -0.15000000000665975, 0.9000000000024391, -1.9000000000018868, 0.8499999999959313},
    {0.6619053617150472, -0.8334399597073003, 1.830980321539851, 0.16246474299793026, 1.3336240141105569, -0.08453617980972168, 0.8313312952041145, -1.8314805501584683, 0.9173366259918682},
    {0.7076695450303314, -0.781180351394715, 1.7754428581358723, 0.2090751707178219, 1.281586894442471, -0.03381178705964013, 0.7762704671256928, -1.7765987141211828, 0.9705257321015561},
    {0.7438718244636277, -0.7373361445161409, 1.727876863326118, 0.24632330718516865, 1.2379747773113916, 0.00821861557486693, 0.7292531643948266, -1.729765740913856, 1.0153308824297578},
    {0.7735274546134032, -0.6992032557950456, 1.6857239283286167, 0.277175464500328, 1.2000736958900264, 0.04432715881020744, 0.6876995967775332, -1.6883934986164466, 1.0544158567818056},
};
// torch.optim.Adagrad lr=0.1 eps=1e-3 lr_decay=0.1 weight_decay=0.05 initial_accumulator_value=0.1
constexpr double adagrad_decay_wd_init[5][9] = {
    {0.5949101443899908, -0.9011099320592412, 1.9001193150883353, 0.09525543642950145, 1.4008889031311016, -0.1521755187230608, 0.9003130112434984, -1.9001894798205399, 0.8491166217209126},
    {0.6493914942487099, -0.8409308175475831, 1.8374152364744922, 0.15054952100286662, 1.3407622240814283, -0.09339013780848762, 0.8380061197933076, -1.8379541487883497, 0.9099328735540929},
    {0.687022197684078, -0.7972920088837484, 1.7910605495911927, 0.18912966490186484, 1.2972134488907405, -0.051200242085135364, 0.7920763570834991, -1.7921187656253394, 0.9541859190483706},
    {0.7152005159509042, -0.7631780520945199, 1.7543022191081257, 0.21829414290650276, 1.2631909411819555, -0.01850982266499463, 0.7557328984092502, -1.755866090001329, 0.988842323343402},
    {0.7373236787730781, -0.7353270780636746, 1.7239490211200028, 0.24139854217273435, 1.2354244657025848, 0.007971438693545444, 0.7257735533195991, -1.725988427194322, 1.0171642322359606},
};
}  // namespace

TEMPLATE_TEST_CASE("Adagrad follows torch.optim.Adagrad step by step", "[optim][adagrad]", float, double) {
  using T = TestType;
  SECTION("lr 0.1") {
    optim::Adagrad<T> opt({.lr = 0.1});
    check_trajectory(opt, adagrad_default);
  }
  SECTION("lr decay, weight decay, initial accumulator, eps") {
    optim::Adagrad<T> opt(
        {.lr = 0.1, .eps = 1e-3, .lr_decay = 0.1, .weight_decay = 0.05, .initial_accumulator_value = 0.1});
    check_trajectory(opt, adagrad_decay_wd_init);
  }
}

TEMPLATE_TEST_CASE("Adagrad steps computed by hand from the rule", "[optim][adagrad]", float, double) {
  using T = TestType;
  Parameter<T> p(1, 1);
  const std::vector<Parameter<T>*> params{&p};
  p.value(0, 0) = 1;
  p.grad(0, 0) = 3;
  optim::Adagrad<T> opt({.lr = 0.5, .eps = 0, .lr_decay = 1, .initial_accumulator_value = 7});
  opt.step(params);
  // s_1 = 7 + 9 = 16, lr_1 = 0.5: p = 1 - 0.5 * 3 / 4 = 0.625
  CHECK(p.value(0, 0) == Approx(0.625));
  CHECK(opt.accumulator(0)(0, 0) == Approx(16));
  p.grad(0, 0) = 3;
  opt.step(params);
  // s_2 = 25, lr_2 = 0.5 / (1 + 1 * 1) = 0.25: p = 0.625 - 0.25 * 3 / 5 = 0.475
  CHECK(p.value(0, 0) == Approx(0.475));
}

TEST_CASE("Adagrad validates its options, naming the field", "[optim][adagrad]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(optim::Adagrad<double>({.lr = -1}), Contains("lr"));
  CHECK_THROWS_WITH((optim::Adagrad<double>({.lr = 0.01, .eps = -1})), Contains("eps"));
  CHECK_THROWS_WITH((optim::Adagrad<double>({.lr = 0.01, .eps = 0, .lr_decay = -1})), Contains("lr_decay"));
  CHECK_THROWS_WITH((optim::Adagrad<float>({.lr = 0.01, .weight_decay = -1})), Contains("weight_decay"));
  CHECK_THROWS_WITH((optim::Adagrad<float>({.lr = 0.01, .initial_accumulator_value = -1})),
                    Contains("initial_accumulator_value"));
  const optim::Adagrad<float> opt;
  CHECK(opt.options().lr == 1e-2);
  CHECK(opt.options().eps == 1e-10);
}
