#include <catch2/catch.hpp>

#include <eigenml/io/csv.hpp>

#include <string>

using namespace eigenml;

// The data sets shipped in examples/data (made by examples/data/make_csvs.py).

TEMPLATE_TEST_CASE("the shipped digits CSV loads as 1797 x 64 pixels and labels 0..9", "[data][datasets]", float,
                   double) {
  auto d = io::read_csv<TestType>(EIGENML_EXAMPLES_DATA_DIR "/digits.csv", {.target = "label"});
  REQUIRE(d.X.rows() == 1797);
  REQUIRE(d.X.cols() == 64);
  CHECK(d.columns.front() == "pixel_0");
  CHECK(d.columns.back() == "pixel_63");
  CHECK(d.X.minCoeff() == 0);
  CHECK(d.X.maxCoeff() == 16);
  const Labels y = d.labels();
  CHECK(y.minCoeff() == 0);
  CHECK(y.maxCoeff() == 9);
  // Every digit is present (174..183 each in this data set).
  for (int c = 0; c < 10; ++c) {
    const auto n = (y.array() == c).count();
    CHECK(n >= 174);
    CHECK(n <= 183);
  }
  // First image, first row of pixels: 0 0 5 13 9 1 0 0, digit 0 (as sklearn's load_digits).
  CHECK(d.X(0, 2) == 5);
  CHECK(d.X(0, 3) == 13);
  CHECK(y(0) == 0);
}

TEMPLATE_TEST_CASE("the shipped breast cancer CSV loads as 569 x 30 with 212 malignant (0)", "[data][datasets]",
                   float, double) {
  auto d = io::read_csv<TestType>(EIGENML_EXAMPLES_DATA_DIR "/breast_cancer.csv", {.target = "target"});
  REQUIRE(d.X.rows() == 569);
  REQUIRE(d.X.cols() == 30);
  CHECK(d.columns.front() == "mean radius");
  CHECK(d.columns.back() == "worst fractal dimension");
  const Labels y = d.labels();
  CHECK((y.array() == 0).count() == 212);
  CHECK((y.array() == 1).count() == 357);
  CHECK(d.X(0, 0) == TestType(17.99));
  CHECK(d.X(0, 3) == TestType(1001));
  CHECK(d.X.allFinite());
  CHECK(d.X.minCoeff() >= 0);
}
