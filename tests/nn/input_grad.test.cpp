// The performance paths of the layers: detail::Gemm (Eigen's GEMM with persistent packing
// buffers) against Eigen's own product, and `needs_input_grad(false)`, which must leave every
// parameter gradient exactly as the full backward computes it.
#include <catch2/catch.hpp>

#include <eigenml/detail/gemm.hpp>
#include <eigenml/nn.hpp>
#include <eigenml/random.hpp>

#include <array>
#include <vector>

using namespace eigenml;

namespace {

template <class T>
using ColMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

/// Every parameter gradient of `net` after one forward/backward of (X, dY).
template <class T>
std::vector<Matrix<T>> grads_after_backward(nn::Layer<T>& net, const Matrix<T>& X, const Matrix<T>& dY) {
  net.forward(X);
  net.backward(dY);
  std::vector<Matrix<T>> g;
  for (auto* p : net.parameters()) g.push_back(p->grad);
  return g;
}

}  // namespace

TEMPLATE_TEST_CASE("detail::Gemm equals Eigen's product for every storage order and transpose", "[nn][gemm]", float,
                   double) {
  using T = TestType;
  Rng rng(3);
  // Shapes on both sides of Eigen's GEMM thresholds (vector results, tiny products, blocked ones).
  const std::vector<std::array<Index, 3>> shapes = {{1, 7, 5}, {5, 7, 1}, {3, 4, 5}, {64, 300, 70}, {130, 9, 257}};
  detail::Gemm<T> gemm;  // one workspace reused across all shapes, as a layer reuses its own
  for (const auto& [m, k, n] : shapes) {
    const Matrix<T> A = random_uniform<T>(m, k, rng), B = random_uniform<T>(k, n, rng);
    const Matrix<T> At = A.transpose(), Bt = B.transpose();
    const ColMatrix<T> Ac = A, Bc = B;
    const Matrix<T> C0 = random_uniform<T>(m, n, rng);
    const ColMatrix<T> expected = A * B;
    const T tol = T(1e-5) * static_cast<T>(k);

    Matrix<T> C(m, n);
    gemm.run(C, A, B);
    CHECK((C - expected).cwiseAbs().maxCoeff() <= tol);
    gemm.run(C, At.transpose(), Bt.transpose());
    CHECK((C - expected).cwiseAbs().maxCoeff() <= tol);
    ColMatrix<T> Cc(m, n);
    gemm.run(Cc, Ac, B);
    CHECK((Cc - expected).cwiseAbs().maxCoeff() <= tol);
    gemm.run(Cc, A, Bc);
    CHECK((Cc - expected).cwiseAbs().maxCoeff() <= tol);

    // Accumulation with a scale, into a block of a larger matrix.
    Matrix<T> big = Matrix<T>::Zero(m + 2, n + 3);
    big.block(1, 2, m, n) = C0;
    gemm.run(big.block(1, 2, m, n), A, Bc, T(-0.5), true);
    const ColMatrix<T> acc = C0 - T(0.5) * expected;
    CHECK((big.block(1, 2, m, n) - acc).cwiseAbs().maxCoeff() <= tol);
    CHECK(big.row(0).isZero());
    CHECK(big.col(0).isZero());
  }
}

namespace {

/// C (m x n, a block inside a larger matrix of storage order OC) = or += alpha A B, with A and B
/// blocks of larger matrices of orders OA and OB: every operand has an outer stride larger than its
/// size, so a vector operand is strided whichever way it is read. Compared with Eigen's product.
template <class T, int OC, int OA, int OB>
void check_strided_product(detail::Gemm<T>& gemm, Index m, Index k, Index n, Rng& rng) {
  using M = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, OA> Abig = random_uniform<T>(m + 3, k + 2, rng);
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, OB> Bbig = random_uniform<T>(k + 2, n + 3, rng);
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, OC> Cbig = random_uniform<T>(m + 2, n + 2, rng);
  const M A = Abig.block(1, 1, m, k), B = Bbig.block(2, 1, k, n), C0 = Cbig.block(1, 1, m, n);
  const auto outside = Cbig;  // everything but the block must stay as it is
  const M expected = A * B;
  const T tol = T(1e-5) * static_cast<T>(k + 1);
  INFO("m = " << m << ", k = " << k << ", n = " << n << ", orders C/A/B = " << OC << OA << OB);

  gemm.run(Cbig.block(1, 1, m, n), Abig.block(1, 1, m, k), Bbig.block(2, 1, k, n));
  CHECK((M(Cbig.block(1, 1, m, n)) - expected).cwiseAbs().maxCoeff() <= tol);
  gemm.run(Cbig.block(1, 1, m, n), Abig.block(1, 1, m, k), Bbig.block(2, 1, k, n), T(-2), true);
  CHECK((M(Cbig.block(1, 1, m, n)) + expected).cwiseAbs().maxCoeff() <= 3 * tol);
  gemm.run(Cbig.block(1, 1, m, n), Abig.block(1, 1, m, k), Bbig.block(2, 1, k, n), T(0.5));
  CHECK((M(Cbig.block(1, 1, m, n)) - T(0.5) * expected).cwiseAbs().maxCoeff() <= tol);
  Cbig.block(1, 1, m, n) = C0;
  CHECK(Cbig == outside);
}

template <class T, int OC>
void check_strided_products(detail::Gemm<T>& gemm, Index m, Index k, Index n, Rng& rng) {
  check_strided_product<T, OC, Eigen::ColMajor, Eigen::ColMajor>(gemm, m, k, n, rng);
  check_strided_product<T, OC, Eigen::ColMajor, Eigen::RowMajor>(gemm, m, k, n, rng);
  check_strided_product<T, OC, Eigen::RowMajor, Eigen::ColMajor>(gemm, m, k, n, rng);
  check_strided_product<T, OC, Eigen::RowMajor, Eigen::RowMajor>(gemm, m, k, n, rng);
}

}  // namespace

TEMPLATE_TEST_CASE("detail::Gemm: vector, tiny and blocked products of strided blocks in every storage order",
                   "[nn][gemm]", float, double) {
  using T = TestType;
  Rng rng(11);
  detail::Gemm<T> gemm;
  // A row or column result (GEMV, strided result or operand), a dot product, a tiny product
  // (a plain loop), blocked ones, and few outputs over a long depth (k >= 256, m n <= 8 (m + n)),
  // which the orders with both operands contiguous along the depth compute as dot products: whole
  // 2 x 4 blocks and the odd rows and columns past them, whole packets and a scalar depth tail.
  // With AVX-512, products whose column-major form has m >= 4 packets (and k, n <= 1024) take
  // the broadcast path: 127 rows are whole 3-packet strips, a single packet, a half, a quarter
  // and scalar rows (float; double: strips, a half, a quarter, a scalar row); columns go 8 at a
  // time, then the rest as one block (the loop below has every width from 1 to 7). An A
  // contiguous along the depth is first copied strip by strip: packet-square blocks through a
  // register transpose, then the depth's tail (k = 19, 21, 600) and the rows past whole packets
  // (70 = 48 + 16 + 6 in float, 24 + 24 + 16 + 6 in double) one at a time. Each product is
  // checked written (C = A B) and accumulated (C += alpha A B). (The test build without
  // -march=native checks these shapes through Eigen; the `AVX-512: ` tests run this file with the
  // paths compiled in.)
  const std::vector<std::array<Index, 3>> shapes = {{1, 37, 23},   {29, 41, 1},  {1, 40, 1},     {2, 3, 4},
                                                    {33, 65, 17},  {8, 784, 9},  {3, 301, 5},    {5, 257, 7},
                                                    {127, 19, 15}, {64, 72, 16}, {15, 72, 127}, {70, 600, 33}};
  for (const auto& [m, k, n] : shapes) {
    check_strided_products<T, Eigen::ColMajor>(gemm, m, k, n, rng);
    check_strided_products<T, Eigen::RowMajor>(gemm, m, k, n, rng);
  }
  for (Index n = 2; n <= 14; ++n) check_strided_products<T, Eigen::ColMajor>(gemm, 67, 21, n, rng);
}

namespace {

/// C = A B + 1 b^T through `run_plus_bias`, C a block of a larger matrix of order OC, A and B of
/// orders OA and OB, against Eigen's product plus the broadcast bias.
template <class T, int OC, int OA, int OB>
void check_plus_bias(detail::Gemm<T>& gemm, Index m, Index k, Index n, Rng& rng) {
  using M = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, OA> A = random_uniform<T>(m, k, rng);
  const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, OB> B = random_uniform<T>(k, n, rng);
  const Vector<T> b = random_uniform<T>(n, 1, rng);
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, OC> Cbig = random_uniform<T>(m + 2, n + 1, rng);
  const auto before = Cbig;
  const M expected = (A * B).rowwise() + b.transpose();
  INFO("m = " << m << ", k = " << k << ", n = " << n << ", orders C/A/B = " << OC << OA << OB);
  gemm.run_plus_bias(Cbig.block(1, 0, m, n), A, B, b.data());
  CHECK((M(Cbig.block(1, 0, m, n)) - expected).cwiseAbs().maxCoeff() <= T(1e-5) * static_cast<T>(k + 1));
  Cbig.block(1, 0, m, n) = before.block(1, 0, m, n);
  CHECK(Cbig == before);
}

}  // namespace

TEMPLATE_TEST_CASE("detail::Gemm::run_plus_bias adds the bias to every row of the product", "[nn][gemm]", float,
                   double) {
  using T = TestType;
  Rng rng(17);
  detail::Gemm<T> gemm;
  // Every path: vector results, a tiny product, dot products (k >= 256, few outputs), Eigen's
  // GEMM, and with AVX-512 the broadcast kernels, which add the bias as they store a row-major C
  // (a column-major C is filled with it first and takes the other paths), over strips, single
  // packets, tails of rows and every width of the last column block.
  const std::vector<std::array<Index, 3>> shapes = {{1, 30, 9},  {9, 30, 1},    {2, 3, 4},    {40, 300, 3},
                                                    {3, 300, 40}, {33, 65, 17}, {70, 600, 33}, {127, 19, 15},
                                                    {15, 72, 127}};
  for (const auto& [m, k, n] : shapes) {
    check_plus_bias<T, Eigen::RowMajor, Eigen::RowMajor, Eigen::ColMajor>(gemm, m, k, n, rng);
    check_plus_bias<T, Eigen::RowMajor, Eigen::ColMajor, Eigen::RowMajor>(gemm, m, k, n, rng);
    check_plus_bias<T, Eigen::ColMajor, Eigen::RowMajor, Eigen::ColMajor>(gemm, m, k, n, rng);
    check_plus_bias<T, Eigen::ColMajor, Eigen::ColMajor, Eigen::ColMajor>(gemm, m, k, n, rng);
  }
  for (Index m = 2; m <= 9; ++m)
    check_plus_bias<T, Eigen::RowMajor, Eigen::RowMajor, Eigen::ColMajor>(gemm, m, 21, 67, rng);
}

TEMPLATE_TEST_CASE("detail::Gemm: a copy starts without scratch and computes the same products", "[nn][gemm]", float,
                   double) {
  using T = TestType;
  Rng rng(6);
  detail::Gemm<T> gemm;
  // C row-major and B column-major: C^T = B^T A^T with B^T stored along the depth, packed in
  // strips with AVX-512; otherwise Eigen's blocked GEMM. Both hold scratch.
  const Matrix<T> A = random_uniform<T>(80, 90, rng);
  const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor> B = random_uniform<T>(90, 70, rng);
  Matrix<T> C(80, 70);
  gemm.run(C, A, B);
  REQUIRE(gemm.capacity_bytes() > 0);
  detail::Gemm<T> copy(gemm);
  CHECK(copy.capacity_bytes() == 0);
  Matrix<T> C2(80, 70);
  copy.run(C2, A, B);
  CHECK(C2 == C);
  detail::Gemm<T> assigned;
  assigned.run(C2, A, B);
  const std::size_t held = assigned.capacity_bytes();
  assigned = gemm;  // keeps its own scratch
  CHECK(assigned.capacity_bytes() == held);
  assigned.run(C2, A, B);
  CHECK(C2 == C);
}

TEMPLATE_TEST_CASE("detail::Gemm: an empty inner dimension gives zero, or leaves C as it was", "[nn][gemm]", float,
                   double) {
  using T = TestType;
  Rng rng(5);
  detail::Gemm<T> gemm;
  const Matrix<T> A(4, 0), B(0, 3), C0 = random_uniform<T>(4, 3, rng);
  Matrix<T> C = C0;
  gemm.run(C, A, B, T(1), true);
  CHECK(C == C0);
  gemm.run(C, A, B);
  CHECK(C.isZero(0));
}

TEMPLATE_TEST_CASE("needs_input_grad(false) skips dL/dX and keeps every parameter gradient", "[nn][input_grad]", float,
                   double) {
  using T = TestType;
  Rng rng(7);
  nn::Sequential<T> net;
  net.add(nn::Conv2D<T>({.in_channels = 1, .height = 6, .width = 6, .out_channels = 3, .kernel = 3, .stride = 1,
                         .padding = 1}));
  net.add(nn::ReLU<T>());
  net.add(nn::MaxPool2D<T>({.channels = 3, .height = 6, .width = 6, .kernel = 2, .stride = 2}));
  net.add(nn::Flatten<T>());
  net.add(nn::Dense<T>(27, 4));
  const Matrix<T> X = random_uniform<T>(5, 36, rng), dY = random_uniform<T>(5, 4, rng);

  CHECK(net.needs_input_grad());
  const auto full = grads_after_backward<T>(net, X, dY);
  const Matrix<T> dX = net.backward(dY);
  CHECK(dX.rows() == 5);
  CHECK(dX.cols() == 36);

  net.set_needs_input_grad(false);
  CHECK_FALSE(net.layer(0).needs_input_grad());
  CHECK(net.layer(4).needs_input_grad());
  const auto skipped = grads_after_backward<T>(net, X, dY);
  CHECK(net.backward(dY).size() == 0);
  REQUIRE(full.size() == skipped.size());
  for (std::size_t i = 0; i < full.size(); ++i) CHECK(full[i] == skipped[i]);

  // Restoring the flag restores dL/dX.
  net.set_needs_input_grad(true);
  net.forward(X);
  CHECK(net.backward(dY) == dX);

  // A parameter-free first layer: backward stops at the first layer with parameters.
  nn::Sequential<T> mlp;
  mlp.add(nn::ReLU<T>());
  mlp.add(nn::Dense<T>(6, 3));
  mlp.add(nn::Tanh<T>());
  mlp.add(nn::Dense<T>(3, 2));
  mlp.set_needs_input_grad(false);
  CHECK_FALSE(mlp.layer(1).needs_input_grad());
  CHECK(mlp.layer(3).needs_input_grad());
  const Matrix<T> Xm = random_uniform<T>(4, 6, rng), dYm = random_uniform<T>(4, 2, rng);
  const auto g_skip = grads_after_backward<T>(mlp, Xm, dYm);
  mlp.set_needs_input_grad(true);
  const auto g_full = grads_after_backward<T>(mlp, Xm, dYm);
  for (std::size_t i = 0; i < g_full.size(); ++i) CHECK(g_full[i] == g_skip[i]);

  // A nested network asked for its dL/dX (not the first layer) still returns it.
  nn::Sequential<T> outer;
  outer.add(nn::Dense<T>(6, 6));
  outer.add(mlp);
  outer.set_needs_input_grad(false);
  CHECK(outer.layer(1).needs_input_grad());
  CHECK_FALSE(outer.layer(0).needs_input_grad());
  outer.forward(Xm);
  CHECK(outer.backward(dYm).size() == 0);
}

TEMPLATE_TEST_CASE("recurrent layers without needs_input_grad keep their parameter gradients", "[nn][input_grad]",
                   float, double) {
  using T = TestType;
  Rng rng(11);
  const nn::RecurrentOptions o{.input_size = 3, .hidden_size = 4, .seq_len = 5};
  const Matrix<T> X = random_uniform<T>(2, 15, rng), dY = random_uniform<T>(2, 4, rng);
  auto check = [&](auto layer) {
    const auto full = grads_after_backward<T>(layer, X, dY);
    CHECK(layer.backward(dY).cols() == 15);
    layer.set_needs_input_grad(false);
    const auto skipped = grads_after_backward<T>(layer, X, dY);
    CHECK(layer.backward(dY).size() == 0);
    for (std::size_t i = 0; i < full.size(); ++i) CHECK(full[i] == skipped[i]);
  };
  check(nn::RNN<T>(o));
  check(nn::LSTM<T>(o));
  check(nn::GRU<T>(o));
}

TEMPLATE_TEST_CASE("infer gives forward's output, and training after it is unchanged", "[nn][infer]", float, double) {
  using T = TestType;
  Rng rng(23);
  nn::Sequential<T> net;  // 70 outputs: with AVX-512, the first product takes the broadcast kernel
  net.add(nn::Dense<T>(7, 70));
  net.add(nn::ReLU<T>());
  net.add(nn::Dense<T>(70, 3));
  const Matrix<T> X = random_uniform<T>(4, 7, rng), other = random_uniform<T>(6, 7, rng);
  const Matrix<T> dY = random_uniform<T>(4, 3, rng);
  const Matrix<T> Y = net.forward(X);
  const std::vector<Matrix<T>> expected = grads_after_backward<T>(net, X, dY);

  CHECK(net.infer(X) == Y);  // the same kernels in the same order: bit for bit
  CHECK(net.predict(X) == Y);
  net.infer(other);  // inference on other rows, then a forward and backward as before
  // A backward straight after infer would pair dY with an older batch's input: refused.
  CHECK_THROWS_WITH(net.backward(dY), Catch::Contains("Dense::backward") && Catch::Contains("infer"));
  net.infer(X);  // even with the same rows as the last forward
  CHECK_THROWS_WITH(net.backward(dY), Catch::Contains("run forward first"));
  CHECK(net.forward(X) == Y);
  net.backward(dY);
  const auto params = net.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) CHECK(params[i]->grad == expected[i]);
  CHECK_THROWS_WITH(net.infer(Matrix<T>(2, 6)), Catch::Contains("Sequential::infer") && Catch::Contains("6"));
}
