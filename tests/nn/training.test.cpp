#include <catch2/catch.hpp>

#include <eigenml/nn/activations.hpp>
#include <eigenml/nn/dense.hpp>
#include <eigenml/nn/dropout.hpp>
#include <eigenml/nn/losses.hpp>
#include <eigenml/nn/sequential.hpp>
#include <eigenml/optim/adam.hpp>
#include <eigenml/optim/lr_scheduler.hpp>
#include <eigenml/optim/sgd.hpp>
#include <eigenml/random.hpp>

#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace eigenml;

namespace {

/// Three well separated Gaussian blobs in 2-D, `per_class` points each.
template <class T>
void blobs(int per_class, std::uint64_t seed, Matrix<T>& X, Labels& y) {
  Rng rng(seed);
  const double centres[3][2] = {{-3, 0}, {3, 0}, {0, 4}};
  X.resize(3 * per_class, 2);
  y.resize(3 * per_class);
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < per_class; ++i) {
      const int r = k * per_class + i;
      X(r, 0) = static_cast<T>(rng.normal(centres[k][0], 0.8));
      X(r, 1) = static_cast<T>(rng.normal(centres[k][1], 0.8));
      y(r) = k;
    }
}

template <class T>
nn::Sequential<T> mlp(Index in, Index hidden, Index out, std::uint64_t seed) {
  nn::Sequential<T> net;
  net.add(nn::Dense<T>(in, hidden)).add(nn::ReLU<T>()).add(nn::Dense<T>(hidden, out));
  net.initialize(seed);
  return net;
}

template <class T>
double accuracy(const Matrix<T>& logits, const Labels& y) {
  int correct = 0;
  for (Index i = 0; i < logits.rows(); ++i) {
    Index k = 0;
    logits.row(i).maxCoeff(&k);
    correct += k == y(i);
  }
  return static_cast<double>(correct) / static_cast<double>(y.size());
}

}  // namespace

TEMPLATE_TEST_CASE("fit: an MLP learns XOR (BCE with logits, full batch)", "[nn][training]", float, double) {
  using T = TestType;
  Matrix<T> X(4, 2);
  X << 0, 0, 0, 1, 1, 0, 1, 1;
  Matrix<T> y(4, 1);
  y << 0, 1, 1, 0;
  nn::Sequential<T> net;
  net.add(nn::Dense<T>(2, 8)).add(nn::Tanh<T>()).add(nn::Dense<T>(8, 1));
  net.initialize(1);
  nn::BCEWithLogitsLoss<T> loss;
  optim::Adam<T> opt({.lr = 0.05});
  const History h = net.fit(X, y, loss, opt, {.epochs = 500, .batch_size = 0});
  REQUIRE(h.epochs_run() == 500);
  CHECK(h.loss.back() < 0.05);
  CHECK(h.loss.back() < h.loss.front() / 10);
  const Matrix<T> logits = net.predict(X);
  for (Index i = 0; i < 4; ++i) CHECK((logits(i, 0) > 0) == (y(i, 0) > T(0.5)));
}

TEMPLATE_TEST_CASE("fit: mini-batch SGD separates three Gaussian blobs", "[nn][training]", float, double) {
  using T = TestType;
  Matrix<T> X, Xt;
  Labels y, yt;
  blobs<T>(100, 5, X, y);
  blobs<T>(50, 6, Xt, yt);
  nn::Sequential<T> net = mlp<T>(2, 16, 3, 3);
  nn::CrossEntropyLoss<T> loss;
  optim::SGD<T> opt({.lr = 0.1, .momentum = 0.9});
  const History h = net.fit(X, y, loss, opt, {.epochs = 20, .batch_size = 32, .seed = 2}, Xt, yt);
  REQUIRE(h.loss.size() == 20);
  REQUIRE(h.val_loss.size() == 20);
  REQUIRE(h.val_accuracy.size() == 20);
  CHECK(h.loss.back() < h.loss.front());
  const double acc = accuracy<T>(net.predict(Xt), yt);
  CHECK(acc > 0.95);
  CHECK(h.val_accuracy.back() == Approx(acc));
  CHECK(h.val_loss.back() == Approx(net.evaluate(Xt, yt, loss)).epsilon(1e-5));
  CHECK(net.training());  // fit restores the mode it found
}

TEMPLATE_TEST_CASE("fit: the same seeds give bit-identical weights; another shuffle seed does not",
                   "[nn][training]", float, double) {
  using T = TestType;
  Matrix<T> X;
  Labels y;
  blobs<T>(40, 8, X, y);
  auto train = [&](std::uint64_t shuffle_seed) {
    nn::Sequential<T> net;
    net.add(nn::Dense<T>(2, 12)).add(nn::ReLU<T>()).add(nn::Dropout<T>(0.2, 4)).add(nn::Dense<T>(12, 3));
    net.initialize(11);
    nn::CrossEntropyLoss<T> loss;
    optim::Adam<T> opt({.lr = 0.01});
    net.fit(X, y, loss, opt, {.epochs = 5, .batch_size = 16, .shuffle = true, .seed = shuffle_seed});
    return net;
  };
  nn::Sequential<T> a = train(1), b = train(1), c = train(2);
  auto pa = a.parameters(), pb = b.parameters(), pc = c.parameters();
  bool any_diff = false;
  for (std::size_t k = 0; k < pa.size(); ++k) {
    CHECK(pa[k]->value == pb[k]->value);
    any_diff = any_diff || pa[k]->value != pc[k]->value;
  }
  CHECK(any_diff);
}

TEMPLATE_TEST_CASE("fit: a ragged last batch and an explicit full batch both train", "[nn][training]", float, double) {
  using T = TestType;
  Matrix<T> X;
  Labels y;
  blobs<T>(35, 9, X, y);  // 105 rows: batches of 32, 32, 32, 9
  nn::Sequential<T> net = mlp<T>(2, 8, 3, 1);
  nn::CrossEntropyLoss<T> loss;
  optim::SGD<T> opt({.lr = 0.1});
  const History h = net.fit(X, y, loss, opt, {.epochs = 10, .batch_size = 32});
  CHECK(h.loss.back() < h.loss.front());
  // Full batch without shuffling: the epoch loss is the loss before each step, so the first entry
  // equals the loss of the untrained network.
  nn::Sequential<T> fresh = mlp<T>(2, 8, 3, 1);
  const double before = fresh.evaluate(X, y, loss);
  optim::SGD<T> opt2({.lr = 0.1});
  const History full = fresh.fit(X, y, loss, opt2, {.epochs = 3, .batch_size = 0});
  CHECK(full.loss[0] == Approx(before).epsilon(1e-5));
}

TEST_CASE("fit: one full-batch SGD step equals a manual forward/backward/step", "[nn][training]") {
  Matrix<double> X;
  Labels y;
  blobs<double>(10, 2, X, y);
  nn::Sequential<double> a = mlp<double>(2, 5, 3, 7), b = a;
  nn::CrossEntropyLoss<double> la, lb;
  optim::SGD<double> oa({.lr = 0.3}), ob({.lr = 0.3});
  a.fit(X, y, la, oa, {.epochs = 1, .batch_size = 0});
  lb.forward(b.forward(X), y);
  b.backward(lb.backward());
  for (auto* p : b.parameters()) p->value -= 0.3 * p->grad;
  auto pa = a.parameters(), pb = b.parameters();
  for (std::size_t k = 0; k < pa.size(); ++k) CHECK((pa[k]->value - pb[k]->value).norm() < 1e-14);
}

TEMPLATE_TEST_CASE("fit: early stopping stops on a rising validation loss and restores the best weights",
                   "[nn][training]", float, double) {
  using T = TestType;
  Matrix<T> X, Xv;
  Labels y, yv;
  blobs<T>(30, 1, X, y);
  blobs<T>(30, 2, Xv, yv);
  // Validation labels rotated by one class: the better the network fits the training blobs, the
  // worse its validation loss, so the best epoch comes early and training must stop long before
  // 200 epochs, handing back the weights of the best epoch (whose validation loss we recompute).
  for (Index i = 0; i < yv.size(); ++i) yv(i) = (yv(i) + 1) % 3;
  nn::Sequential<T> net = mlp<T>(2, 8, 3, 5);
  nn::CrossEntropyLoss<T> loss;
  optim::SGD<T> opt({.lr = 0.2});
  std::vector<Matrix<T>> snapshots;
  nn::FitCallbacks<T> cb{.early_stopping = nn::EarlyStopping{.patience = 3, .min_delta = 0.0},
                         .on_epoch_end = [&](int, const History&, double) {
                           snapshots.push_back(net.parameters()[0]->value);
                           return true;
                         }};
  const History h = net.fit(X, y, loss, opt, {.epochs = 200, .batch_size = 8, .seed = 3}, Xv, yv, cb);
  REQUIRE(h.val_loss.size() == snapshots.size());
  const auto best = std::min_element(h.val_loss.begin(), h.val_loss.end()) - h.val_loss.begin();
  // Stopped exactly `patience` epochs after the best one (or ran out of epochs).
  CHECK((h.epochs_run() == 200 || static_cast<int>(best) == h.epochs_run() - 1 - 3));
  CHECK(h.epochs_run() < 200);
  CHECK(net.parameters()[0]->value == snapshots[static_cast<std::size_t>(best)]);
  CHECK(net.evaluate(Xv, yv, loss) == Approx(h.val_loss[static_cast<std::size_t>(best)]).epsilon(1e-5));
}

TEMPLATE_TEST_CASE("fit: on_epoch_end can stop training and sees the monitored loss", "[nn][training]", float,
                   double) {
  using T = TestType;
  Matrix<T> X;
  Labels y;
  blobs<T>(10, 1, X, y);
  nn::Sequential<T> net = mlp<T>(2, 4, 3, 5);
  nn::CrossEntropyLoss<T> loss;
  optim::SGD<T> opt({.lr = 0.1});
  std::vector<double> seen;
  nn::FitCallbacks<T> cb{.on_epoch_end = [&](int epoch, const History& h, double monitored) {
    CHECK(monitored == h.loss.back());  // no validation data: the training loss is monitored
    seen.push_back(monitored);
    opt.set_lr(opt.lr() * T(0.5));  // a hand-made schedule
    return epoch < 4;
  }};
  const History h = net.fit(X, y, loss, opt, {.epochs = 50}, cb);
  CHECK(h.epochs_run() == 4);
  CHECK(seen.size() == 4);
  CHECK(opt.lr() == Approx(0.1 / 16));
}

TEMPLATE_TEST_CASE("fit/predict/evaluate: bad input is rejected with clear messages", "[nn][training]", float,
                   double) {
  using T = TestType;
  nn::Sequential<T> net = mlp<T>(4, 5, 3, 1);
  nn::CrossEntropyLoss<T> loss;
  nn::MSELoss<T> mse;
  optim::SGD<T> opt({.lr = 0.1});
  Matrix<T> X = Matrix<T>::Ones(6, 4);
  Labels y(6);
  y << 0, 1, 2, 0, 1, 2;
  const TrainOptions o{.epochs = 1};

  CHECK_THROWS_WITH(net.fit(Matrix<T>::Ones(6, 3), y, loss, opt, o),
                    Catch::Contains("3 features") && Catch::Contains("expects 4"));
  CHECK_THROWS_WITH(net.predict(Matrix<T>::Ones(2, 7)), Catch::Contains("7 features") && Catch::Contains("expects 4"));
  Labels bad = y;
  bad(3) = 3;
  CHECK_THROWS_WITH(net.fit(X, bad, loss, opt, o), Catch::Contains("label 3") && Catch::Contains("0..2"));
  bad(3) = -1;
  CHECK_THROWS_AS(net.fit(X, bad, loss, opt, o), std::invalid_argument);
  CHECK_THROWS_WITH(net.fit(X, Labels(y.head(5)), loss, opt, o),
                    Catch::Contains("6 rows") && Catch::Contains("targets has 5"));
  Matrix<T> nan = X;
  nan(2, 1) = std::numeric_limits<T>::quiet_NaN();
  CHECK_THROWS_WITH(net.fit(nan, y, loss, opt, o), Catch::Contains("NaN") && Catch::Contains("row 2"));
  nan(2, 1) = std::numeric_limits<T>::infinity();
  CHECK_THROWS_WITH(net.predict(nan), Catch::Contains("Inf"));
  CHECK_THROWS_WITH(net.fit(Matrix<T>(0, 4), Labels(0), loss, opt, o), Catch::Contains("empty"));
  CHECK_THROWS_WITH(net.fit(X, Matrix<T>::Zero(6, 2), mse, opt, o),
                    Catch::Contains("2 columns") && Catch::Contains("outputs 3"));
  CHECK_THROWS_WITH(net.evaluate(X, Labels(y.head(4)), loss), Catch::Contains("rows"));
  CHECK_THROWS_WITH(net.fit(X, y, loss, opt, {.epochs = 0}), Catch::Contains("epochs"));
  CHECK_THROWS_WITH(net.fit(X, y, loss, opt, o, {.early_stopping = nn::EarlyStopping{.patience = 0}}),
                    Catch::Contains("patience"));
  CHECK_THROWS_WITH(net.fit(X, y, loss, opt, o, Matrix<T>::Ones(2, 5), Labels(y.head(2))),
                    Catch::Contains("5 features"));
  nn::Sequential<T> empty;
  CHECK_THROWS_WITH(empty.fit(X, y, loss, opt, o), Catch::Contains("no layers"));
}

TEMPLATE_TEST_CASE("fit: a diverging run stops with the epoch and batch", "[nn][training]", float, double) {
  using T = TestType;
  Matrix<T> X;
  Labels y;
  blobs<T>(20, 3, X, y);
  X *= T(1000);
  nn::Sequential<T> net = mlp<T>(2, 16, 3, 1);
  nn::MSELoss<T> loss;
  Matrix<T> Y = Matrix<T>::Zero(X.rows(), 3);
  for (Index i = 0; i < X.rows(); ++i) Y(i, y(i)) = 1;
  optim::SGD<T> opt({.lr = 1e6});
  try {
    net.fit(X, Y, loss, opt, {.epochs = 50, .batch_size = 10});
    FAIL("fit did not throw");
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK_THAT(msg, Catch::Contains("epoch 1, batch"));
    CHECK_THAT(msg, Catch::Contains("of 6"));
    CHECK_THAT(msg, Catch::Contains("NaN") || Catch::Contains("Inf") || Catch::Contains("infinite"));
  }
  CHECK(net.training());
}

/// Passes its input through unchanged and records how many rows each forward pass had.
template <class T>
class RowRecorder : public nn::LayerBase<RowRecorder<T>, T> {
 public:
  explicit RowRecorder(std::shared_ptr<std::vector<Index>> rows) : rows_(std::move(rows)) {}
  const Matrix<T>& forward(const Matrix<T>& X) override {
    rows_->push_back(X.rows());
    Y_ = X;
    return Y_;
  }
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    dX_ = dY;
    return dX_;
  }
  std::string name() const override { return "RowRecorder"; }

 private:
  std::shared_ptr<std::vector<Index>> rows_;
  Matrix<T> Y_, dX_;
};

TEST_CASE("predict and evaluate run wide networks a few rows at a time, with one pass's results",
          "[nn][training]") {
  using T = double;
  auto rows = std::make_shared<std::vector<Index>>();
  // 20000 values per row in the middle: the ReLU's input + output (320 KB a row) is more than
  // the cache budget, and the parameters (100k) are fewer than two rows' activations (60k a
  // row), so every pass has a single row.
  nn::Sequential<T> wide;
  wide.add(nn::Dense<T>(1, 20000, 1)).add(nn::ReLU<T>()).add(RowRecorder<T>(rows)).add(nn::Dense<T>(20000, 3, 2));
  Rng rng(3);
  const Matrix<T> X = random_uniform<T>(7, 1, rng, -1, 1);
  wide.set_training(false);
  const Matrix<T> one_pass = wide.forward(X);
  rows->clear();
  const Matrix<T> P = wide.predict(X);
  CHECK(*rows == std::vector<Index>(7, 1));
  CHECK((P - one_pass).cwiseAbs().maxCoeff() <= 1e-12 * one_pass.cwiseAbs().maxCoeff());
  rows->clear();
  nn::MSELoss<T> mse;
  const Matrix<T> target = Matrix<T>::Zero(7, 3);
  const double loss = wide.evaluate(X, target, mse);
  CHECK(*rows == std::vector<Index>(7, 1));
  CHECK(loss == Approx((one_pass.array().square().rowwise().sum() / 3.0).mean()).epsilon(1e-12));

  // A narrow network with many parameters per activation: at most batch_size rows a pass, the
  // rows split evenly over the passes that needs, a short last pass padded with zero rows (the
  // layers then keep their buffers), and the outputs those of one pass.
  nn::Sequential<T> narrow;
  narrow.add(nn::Dense<T>(64, 64, 1)).add(RowRecorder<T>(rows)).add(nn::Dense<T>(64, 2, 2));
  const Matrix<T> Xn = random_uniform<T>(301, 64, rng, -1, 1);
  narrow.set_training(false);
  const Matrix<T> narrow_one_pass = narrow.forward(Xn);
  rows->clear();
  const Matrix<T> Pn = narrow.predict(Xn);
  CHECK(*rows == std::vector<Index>{151, 151});  // 151 + 150 rows, the second padded
  REQUIRE(Pn.rows() == 301);
  CHECK((Pn - narrow_one_pass).cwiseAbs().maxCoeff() <= 1e-12 * narrow_one_pass.cwiseAbs().maxCoeff());
  rows->clear();
  narrow.predict(Xn.topRows(300), 100);
  CHECK(*rows == std::vector<Index>{100, 100, 100});
  rows->clear();
  // evaluate pads the same way; the padded row's output (the biases, not zero) stays out of the loss
  const double narrow_loss = narrow.evaluate(Xn, Matrix<T>::Zero(301, 2), mse);
  CHECK(*rows == std::vector<Index>{151, 151});
  CHECK(narrow_loss == Approx((narrow_one_pass.array().square().rowwise().sum() / 2.0).mean()).epsilon(1e-12));
}

TEMPLATE_TEST_CASE("predict and evaluate run in evaluation mode, in batches, restoring the mode", "[nn][training]",
                   float, double) {
  using T = TestType;
  nn::Sequential<T> net;
  net.add(nn::Dense<T>(3, 5, 1)).add(nn::Dropout<T>(0.5, 2)).add(nn::Dense<T>(5, 2, 3));
  Rng rng(1);
  const Matrix<T> X = random_uniform<T>(10, 3, rng);
  net.set_training(false);
  const Matrix<T> expected = net.forward(X);
  net.set_training(true);
  const Matrix<T> P = net.predict(X, 3);  // batches of 3, 3, 3, 1
  CHECK(P == expected);
  CHECK(net.training());
  net.set_training(false);
  CHECK(net.predict(X, 4) == expected);
  CHECK_FALSE(net.training());
  CHECK_THROWS_WITH(net.predict(X, 0), Catch::Contains("batch_size"));
  nn::MSELoss<T> mse;
  const Matrix<T> target = Matrix<T>::Zero(10, 2);
  const double full = net.evaluate(X, target, mse, 1000);
  CHECK(net.evaluate(X, target, mse, 3) == Approx(full).epsilon(1e-5));
  CHECK(full == Approx(expected.squaredNorm() / 20.0).epsilon(1e-5));
}

TEMPLATE_TEST_CASE("fit: an LR schedule is stepped once per epoch with the monitored loss", "[nn][training]", float,
                   double) {
  using T = TestType;
  Matrix<T> X, Xv;
  Labels y, yv;
  blobs<T>(10, 1, X, y);
  blobs<T>(10, 2, Xv, yv);
  {  // StepLR: halves the rate every 2 epochs; on_epoch_end sees the rate of the next epoch.
    nn::Sequential<T> net = mlp<T>(2, 4, 3, 5);
    nn::CrossEntropyLoss<T> loss;
    optim::SGD<T> opt({.lr = 0.1});
    optim::StepLR<T> sched(opt, {.step_size = 2, .gamma = 0.5});
    std::vector<double> rates;
    nn::FitCallbacks<T> cb{.lr_scheduler = &sched, .on_epoch_end = [&](int, const History&, double) {
                             rates.push_back(static_cast<double>(opt.lr()));
                             return true;
                           }};
    net.fit(X, y, loss, opt, {.epochs = 5, .batch_size = 8}, cb);
    REQUIRE(rates.size() == 5);
    CHECK(rates[0] == Approx(0.1));
    CHECK(rates[1] == Approx(0.05));
    CHECK(rates[2] == Approx(0.05));
    CHECK(rates[3] == Approx(0.025));
    CHECK(rates[4] == Approx(0.025));
  }
  {  // ReduceLROnPlateau watches the validation loss: rotated validation labels make it rise.
    for (Index i = 0; i < yv.size(); ++i) yv(i) = (yv(i) + 1) % 3;
    nn::Sequential<T> net = mlp<T>(2, 4, 3, 5);
    nn::CrossEntropyLoss<T> loss;
    optim::SGD<T> opt({.lr = 0.2});
    optim::ReduceLROnPlateau<T> plateau(opt, {.factor = 0.5, .patience = 0});
    nn::FitCallbacks<T> cb{.lr_scheduler = &plateau};
    const History h = net.fit(X, y, loss, opt, {.epochs = 6, .batch_size = 8}, Xv, yv, cb);
    CHECK(plateau.best() == Approx(*std::min_element(h.val_loss.begin(), h.val_loss.end())));
    CHECK(opt.lr() < T(0.2));
  }
  {  // A schedule of another optimizer is rejected.
    nn::Sequential<T> net = mlp<T>(2, 4, 3, 5);
    nn::CrossEntropyLoss<T> loss;
    optim::SGD<T> opt({.lr = 0.1}), other({.lr = 0.1});
    optim::StepLR<T> sched(other, {.step_size = 2});
    CHECK_THROWS_WITH(net.fit(X, y, loss, opt, {.epochs = 1}, {.lr_scheduler = &sched}),
                      Catch::Contains("different optimizer"));
  }
}

TEMPLATE_TEST_CASE("fit: regression with Vector targets recovers a linear map (MSE)", "[nn][training]", float,
                   double) {
  using T = TestType;
  Rng rng(12);
  const Matrix<T> X = random_uniform<T>(128, 3, rng);
  Vector<T> y(128);
  for (Index i = 0; i < 128; ++i) y(i) = T(2) * X(i, 0) - T(1) * X(i, 1) + T(0.5) * X(i, 2) + T(0.25);
  nn::Sequential<T> net;
  net.add(nn::Dense<T>(3, 1, 1));
  nn::MSELoss<T> loss;
  optim::SGD<T> opt({.lr = 0.1, .momentum = 0.9});
  const History h = net.fit(X, y, loss, opt, {.epochs = 200, .batch_size = 16, .seed = 1});
  CHECK(h.loss.back() < 1e-6);
  auto p = net.parameters();
  const double tol = std::is_same_v<T, float> ? 1e-3 : 1e-5;
  CHECK(p[0]->value(0, 0) == Approx(2).margin(tol));
  CHECK(p[0]->value(0, 1) == Approx(-1).margin(tol));
  CHECK(p[0]->value(0, 2) == Approx(0.5).margin(tol));
  CHECK(p[1]->value(0, 0) == Approx(0.25).margin(tol));
  const Matrix<T> pred = net.predict(X);
  CHECK((pred.col(0) - y).norm() / std::sqrt(128.0) < 10 * tol);
}

TEMPLATE_TEST_CASE("fit trains in training mode and restores the mode it found", "[nn][training]", float, double) {
  using T = TestType;
  Matrix<T> X;
  Labels y;
  blobs<T>(10, 1, X, y);
  nn::Sequential<T> net;
  net.add(nn::Dense<T>(2, 8)).add(nn::Dropout<T>(0.5, 1)).add(nn::Dense<T>(8, 3));
  net.set_training(false);
  nn::CrossEntropyLoss<T> loss;
  optim::SGD<T> opt({.lr = 0.1});
  std::vector<bool> modes;
  nn::FitCallbacks<T> cb{.on_epoch_end = [&](int, const History&, double) {
    modes.push_back(net.layer(1).training());
    return true;
  }};
  net.fit(X, y, loss, opt, {.epochs = 2}, X, y, cb);  // validation runs in evaluation mode in between
  CHECK(modes == std::vector<bool>{true, true});
  CHECK_FALSE(net.training());
  CHECK_FALSE(net.layer(1).training());
}
