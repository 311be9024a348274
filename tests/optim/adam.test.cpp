#include "optim_test_support.hpp"  // first: configures Eigen's allocation check

#include <cmath>

using namespace eigenml;
using eigenml::test::check_trajectory;

namespace {
// Produced by tests/reference/optim_reference.py (torch.optim, PyTorch 1.13, float64): the
// values of P0 (row-major) and P1 after steps 1..5 of OptimProblem.
// torch.optim.Adam lr=0.1
constexpr double adam_default[5][9] = {
    {0.5999999989873418, -0.9000000004761904, 1.9000000001470587, 0.09999999900000002, 1.4000000004278075, -0.15000000066597294, 0.9000000002439025, -1.9000000001886792, 0.8499999995931341},
    {0.6986931189056229, -0.8004605045717348, 1.80015114937188, 0.19881158867082055, 1.3004876890205, -0.0506303577664715, 0.8001889765869314, -1.8002057158984681, 0.9496481369217138},
    {0.7945339240814602, -0.7017576839510452, 1.7005556503412373, 0.2951148572356177, 1.2018577610112338, 0.04752993715180752, 0.7007016591340729, -1.7007606704166232, 1.0486381695046243},
    {0.8851974338350934, -0.6043284473600727, 1.601316267752978, 0.38700673519833906, 1.1045637655889113, 0.1437450494077593, 0.6016797221113405, -1.6018125243712191, 1.1465945590134856},
    {0.9674478553272212, -0.5086770599737217, 1.5025359466845145, 0.4719002794752554, 1.0091221745872139, 0.2370913711337304, 0.5032721545489437, -1.5035125351846834, 1.243057924830468},
};
// torch.optim.Adam lr=0.05 betas=(0.8,0.95) eps=1e-3 weight_decay=0.1
constexpr double adam_l2_eps[5][9] = {
    {0.5499467234949387, -0.9500227169468424, 1.9500071418368805, 0.04995004995004996, 1.4500200924251556, -0.2000327318849474, 0.9500119019281124, -1.9500090892564987, 0.7999790251959833},
    {0.5995316073670167, -0.900184444244825, 1.900068358328932, 0.09958452759105033, 1.4001825145210074, -0.15025196289480705, 0.9000906954272212, -1.9000884838008902, 0.8498378389467328},
    {0.6484392493106472, -0.8505846253073499, 1.850219266964343, 0.1486404168846281, 1.3505884930511638, -0.10079886412772138, 0.8502815053803772, -1.8502851395909077, 0.8994872914489169},
    {0.6962832387412617, -0.8013272419723129, 1.800494637202372, 0.19680658570366408, 1.3013432583843694, -0.051828135991236854, 0.800629318412167, -1.800645414033407, 0.9488313374316127},
    {0.7425948212995583, -0.7525201022796177, 1.750927975714974, 0.2437179631855543, 1.2525551763968954, -0.003508216026434023, 0.7511785155593239, -1.751214517214629, 0.9977671355898947},
};
// torch.optim.Adam lr=0.1 amsgrad
constexpr double adam_amsgrad[5][9] = {
    {0.5999999989873418, -0.9000000004761904, 1.9000000001470587, 0.09999999900000002, 1.4000000004278075, -0.15000000066597294, 0.9000000002439025, -1.9000000001886792, 0.8499999995931341},
    {0.6986931189056229, -0.8004605045717348, 1.80015114937188, 0.19881158867082055, 1.3004876890205, -0.0506303577664715, 0.8001889765869314, -1.8002057158984681, 0.9496481369217138},
    {0.7945339240814602, -0.7017576839510452, 1.7005556503412373, 0.2951148572356177, 1.2018577610112338, 0.04752993715180752, 0.7007016591340729, -1.7007606704166232, 1.0486381695046243},
    {0.8851974338350934, -0.6043284473600727, 1.601316267752978, 0.38700673519833906, 1.1045637655889113, 0.1437450494077593, 0.6016797221113405, -1.6018125243712191, 1.1465945590134856},
    {0.9674478553272212, -0.5086770599737217, 1.5025359466845145, 0.4719002794752554, 1.0091221745872139, 0.2370913711337304, 0.5032721545489437, -1.5035125351846834, 1.243057924830468},
};
// torch.optim.AdamW lr=0.05 betas=(0.8,0.95) eps=1e-3 weight_decay=0.1
constexpr double adamw_decoupled[5][9] = {
    {0.5474494183105716, -0.9450237981913374, 1.9400073518600205, 0.04995004995004996, 1.4425213812272824, -0.19878327648600308, 0.9450121921482565, -1.9400094321826071, 0.7962296649805546},
    {0.594364864607211, -0.8904786171383456, 1.880380285851664, 0.09935420776769067, 1.385503095405468, -0.1480075178345832, 0.8903720298548532, -1.8804052407779832, 0.8421273924589596},
    {0.6405040290311076, -0.8364738264427066, 1.8211597503428056, 0.14797439247977603, 1.3290665818730454, -0.09780862094014531, 0.8361263414184006, -1.8212428308941757, 0.8876222317272315},
    {0.6855833932406858, -0.7831232389150556, 1.7623851306667142, 0.19553523279207852, 1.2733382387052647, -0.048333443346321066, 0.78232120664361, -1.7625763076570622, 0.9326398241269553},
    {0.7292741403564998, -0.7305442943560083, 1.7040937666093225, 0.24172081543263257, 1.218448435334645, 0.0002604045470235225, 0.7290014567354791, -1.704457816743585, 0.9771028592172665},
};
// torch.optim.AdamW lr=0.1 amsgrad (weight_decay default 1e-2)
constexpr double adamw_amsgrad[5][9] = {
    {0.5994999989873417, -0.8990000004761904, 1.898000000147059, 0.09999999900000002, 1.3985000004278074, -0.14975000066597294, 0.8990000002439025, -1.8980000001886792, 0.8492499995931341},
    {0.6976047419891388, -0.7985680166509594, 1.7962567577792565, 0.19871158867182054, 1.2975996041084417, -0.0502329706068831, 0.7982923108921091, -1.7963128360139298, 0.9480525281078309},
    {0.7927917060911618, -0.6990849397737602, 1.6948744591182392, 0.2948194039568026, 1.1977017018332559, 0.04797156636212606, 0.6980128283718045, -1.6950851083803418, 1.046106386303887},
    {0.8827807335254932, -0.600992826549622, 1.5939576093972168, 0.38643176836493276, 1.0992692297964552, 0.1441284837454001, 0.5983041778732923, -1.5944673633009234, 1.1430438636184763},
    {0.9644089193487047, -0.5048014771130496, 1.493610643358602, 0.47098379245389504, 1.0028292500907228, 0.23731688494977884, 0.4993160710116694, -1.4946135272112484, 1.238417184168716},
};
}  // namespace

TEMPLATE_TEST_CASE("Adam and AdamW follow torch.optim step by step", "[optim][adam]", float, double) {
  using T = TestType;
  SECTION("Adam, bias-corrected") {
    optim::Adam<T> opt({.lr = 0.1});
    check_trajectory(opt, adam_default);
  }
  SECTION("Adam: L2 weight decay in the gradient, eps outside the corrected root") {
    optim::Adam<T> opt({.lr = 0.05, .beta1 = 0.8, .beta2 = 0.95, .eps = 1e-3, .weight_decay = 0.1});
    check_trajectory(opt, adam_l2_eps);
  }
  SECTION("Adam with AMSGrad") {
    optim::Adam<T> opt({.lr = 0.1, .amsgrad = true});
    check_trajectory(opt, adam_amsgrad);
  }
  SECTION("AdamW: decoupled weight decay") {
    optim::AdamW<T> opt({.lr = 0.05, .beta1 = 0.8, .beta2 = 0.95, .eps = 1e-3, .weight_decay = 0.1});
    check_trajectory(opt, adamw_decoupled);
  }
  SECTION("AdamW with AMSGrad and the default weight decay 1e-2") {
    optim::AdamW<T> opt({.lr = 0.1, .amsgrad = true});
    CHECK(opt.options().weight_decay == 1e-2);
    check_trajectory(opt, adamw_amsgrad);
  }
}

TEMPLATE_TEST_CASE("Adam steps computed by hand from the rule", "[optim][adam]", float, double) {
  using T = TestType;
  Parameter<T> p(1, 1);
  const std::vector<Parameter<T>*> params{&p};
  p.value(0, 0) = 1;

  SECTION("two Adam steps") {
    optim::Adam<T> opt({.lr = 0.1});
    p.grad(0, 0) = T(0.5);
    opt.step(params);
    // m_1 = 0.1 * 0.5 = 0.05, v_1 = 0.001 * 0.25 = 2.5e-4, step size 0.1 / (1 - 0.9) = 1,
    // denominator sqrt(2.5e-4) / sqrt(1 - 0.999) + 1e-8 = 0.5 + 1e-8
    const double p1 = 1 - 1.0 * 0.05 / (0.5 + 1e-8);
    CHECK(p.value(0, 0) == Approx(p1));
    CHECK(opt.first_moment(0)(0, 0) == Approx(0.05));
    CHECK(opt.second_moment(0)(0, 0) == Approx(2.5e-4));
    p.grad(0, 0) = T(-0.25);
    opt.step(params);
    // m_2 = 0.9 * 0.05 + 0.1 * -0.25 = 0.02, v_2 = 0.999 * 2.5e-4 + 0.001 * 0.0625 = 3.1225e-4,
    // step size 0.1 / (1 - 0.81), denominator sqrt(3.1225e-4) / sqrt(1 - 0.998001) + 1e-8
    const double p2 = p1 - (0.1 / 0.19) * 0.02 / (std::sqrt(3.1225e-4) / std::sqrt(0.001999) + 1e-8);
    CHECK(p.value(0, 0) == Approx(p2));
    CHECK(opt.steps() == 2);
  }
  SECTION("Adam's weight decay enters the moments (L2)") {
    optim::Adam<T> opt({.lr = 0.1, .weight_decay = 0.1});
    p.grad(0, 0) = T(0.5);
    opt.step(params);
    // g = 0.5 + 0.1 * 1 = 0.6, m_1 = 0.06, corrected denominator 0.6 + 1e-8
    CHECK(p.value(0, 0) == Approx(1 - 0.06 / (0.6 + 1e-8)));
    CHECK(opt.first_moment(0)(0, 0) == Approx(0.06));
  }
  SECTION("AdamW's weight decay shrinks the parameter first (decoupled)") {
    optim::AdamW<T> opt({.lr = 0.1, .weight_decay = 0.1});
    p.grad(0, 0) = T(0.5);
    opt.step(params);
    // p = 1 * (1 - 0.1 * 0.1) = 0.99, then the plain Adam step of size 0.05 / (0.5 + 1e-8)
    CHECK(p.value(0, 0) == Approx(0.99 - 0.05 / (0.5 + 1e-8)));
    CHECK(opt.first_moment(0)(0, 0) == Approx(0.05));
  }
  SECTION("eps is added after the bias correction") {
    optim::Adam<T> opt({.lr = 1, .eps = 0.5});
    p.grad(0, 0) = T(2);
    opt.step(params);
    // m_1 / (1 - beta1) = 2, sqrt(v_1) / sqrt(1 - beta2) = 2: p = 1 - 2 / (2 + 0.5) = 0.2
    CHECK(p.value(0, 0) == Approx(0.2));
  }
}

TEST_CASE("Adam and AdamW validate their options, naming the field", "[optim][adam]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(optim::Adam<double>({.lr = -1}), Contains("AdamOptions: lr"));
  CHECK_THROWS_WITH((optim::Adam<double>({.lr = 1e-3, .beta1 = 1.0})), Contains("beta1"));
  CHECK_THROWS_WITH((optim::Adam<double>({.lr = 1e-3, .beta1 = -0.1})), Contains("beta1"));
  CHECK_THROWS_WITH((optim::Adam<double>({.lr = 1e-3, .beta1 = 0.9, .beta2 = 1.5})), Contains("beta2"));
  CHECK_THROWS_WITH((optim::Adam<double>({.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.99, .eps = -1e-8})), Contains("eps"));
  CHECK_THROWS_WITH((optim::Adam<double>({.lr = 1e-3, .weight_decay = -1})), Contains("weight_decay"));
  CHECK_THROWS_WITH(optim::AdamW<float>({.lr = -1}), Contains("AdamWOptions: lr"));
  CHECK_THROWS_WITH((optim::AdamW<float>({.lr = 1e-3, .beta2 = std::nan("")})), Contains("beta2"));
  CHECK_THROWS_WITH((optim::AdamW<float>({.lr = 1e-3, .weight_decay = -0.01})), Contains("weight_decay"));
  const optim::Adam<float> adam;
  CHECK(adam.options().lr == 1e-3);
  CHECK(adam.options().beta1 == 0.9);
  CHECK(adam.options().beta2 == 0.999);
  CHECK(adam.options().eps == 1e-8);
  CHECK(adam.options().weight_decay == 0);
  CHECK(adam.lr() == 1e-3f);
  const optim::AdamW<double> adamw({.lr = 1e-3});
  CHECK(adamw.options().weight_decay == 1e-2);
}
