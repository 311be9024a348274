#include <catch2/catch.hpp>

#include <eigenml/io/csv.hpp>
#include <eigenml/random.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "support/temp_path.hpp"

using namespace eigenml;
using eigenml::io::CsvError;
using eigenml::io::read_csv;

namespace {

template <class T>
io::CsvData<T> parse(const std::string& text, const io::CsvOptions& options = {}) {
  std::istringstream in(text);
  return read_csv<T>(in, options, "test.csv");
}

/// A fresh file path in the system temp folder (unique to this run), removed at scope exit.
struct TempFile {
  std::filesystem::path path;
  explicit TempFile(const std::string& name) : path(test::unique_temp_path("eigenml_csv_test_" + name)) {}
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  std::string str() const { return path.string(); }
};

}  // namespace

TEMPLATE_TEST_CASE("read_csv reads a header, features and a target by name or index", "[data][csv]", float,
                   double) {
  using T = TestType;
  const std::string text = "a,b,label,c\n1,2.5,0,-3\n4,5e-1,2,6\n";
  auto d = parse<T>(text, {.target = "label"});
  REQUIRE(d.X.rows() == 2);
  REQUIRE(d.X.cols() == 3);
  CHECK(d.columns == std::vector<std::string>{"a", "b", "c"});
  CHECK(d.target_name == "label");
  CHECK(d.X(0, 1) == T(2.5));
  CHECK(d.X(1, 1) == T(0.5));
  CHECK(d.X(0, 2) == T(-3));
  CHECK(d.y(1) == T(2));
  CHECK(d.labels() == Eigen::Vector2i(0, 2));

  auto by_index = parse<T>(text, {.target = 2});
  CHECK(by_index.X == d.X);
  CHECK(by_index.y == d.y);
  auto last = parse<T>(text, {.target = -1});  // Python-style: the last column
  CHECK(last.target_name == "c");
  CHECK(last.y(1) == T(6));

  auto all = parse<T>(text);
  CHECK(all.X.cols() == 4);
  CHECK(all.y.size() == 0);
  CHECK(all.target_name.empty());

  auto skipped = parse<T>(text, {.target = "label", .skip = {"a", 3}});
  CHECK(skipped.columns == std::vector<std::string>{"b"});
  CHECK(skipped.X.cols() == 1);
}

TEST_CASE("read_csv handles headerless files, other delimiters, blanks, signs", "[data][csv]") {
  auto d = parse<double>("1;2;3\n4;5;6\n", {.delimiter = ';', .header = false, .target = 0});
  CHECK(d.columns == std::vector<std::string>{"column_1", "column_2"});
  CHECK(d.y == Eigen::Vector2d(1, 4));
  CHECK(d.X(1, 1) == 6);

  auto t = parse<double>("x\ty\n +1.5 \t -2\n\n  \n7\t8\n\n", {.delimiter = '\t'});
  REQUIRE(t.X.rows() == 2);
  CHECK(t.X(0, 0) == 1.5);
  CHECK(t.X(0, 1) == -2);
  CHECK(t.X(1, 0) == 7);
  // A field of spaces around a quoted name, and an escaped quote.
  auto q = parse<double>(" \"say \"\"hi\"\"\" , b\n1,2\n");
  CHECK(q.columns == std::vector<std::string>{"say \"hi\"", "b"});
}

TEST_CASE("read_csv reads the CRLF, BOM and quoted-header fixture", "[data][csv]") {
  auto d = read_csv<double>(EIGENML_TEST_DATA_DIR "/csv/quoted_crlf.csv", {.target = "class"});
  CHECK(d.columns == std::vector<std::string>{"sepal length", "x,y"});
  REQUIRE(d.X.rows() == 2);
  CHECK(d.X(0, 0) == 5.1);
  CHECK(d.X(0, 1) == 1e-3);
  CHECK(d.X(1, 1) == -2);
  CHECK(d.labels() == Eigen::Vector2i(0, 1));
}

TEST_CASE("read_csv reads NaN only when allowed", "[data][csv]") {
  const std::string text = "a,b\n1,nan\n,2\n";
  CHECK_THROWS_WITH(parse<double>(text), Catch::Contains("line 2, column 2 ('b'): 'nan' is not a finite number"));
  auto d = parse<double>(text, {.allow_nan = true});
  CHECK(std::isnan(d.X(0, 1)));
  CHECK(std::isnan(d.X(1, 0)));
  CHECK(d.X(1, 1) == 2);
  CHECK_THROWS_WITH(parse<double>("a\ninf\n", {.allow_nan = true}), Catch::Contains("'inf' is not a number or nan"));
}

TEST_CASE("read_csv errors name the line and the column", "[data][csv]") {
  // Ragged rows, both ways.
  try {
    parse<double>("a,b,c\n1,2,3\n4,5\n");
    FAIL("no exception");
  } catch (const CsvError& e) {
    CHECK(std::string(e.what()) == "read_csv(test.csv): line 3 has 2 fields, expected 3 (as the header)");
    CHECK(e.line() == 3);
  }
  CHECK_THROWS_WITH(parse<double>("1,2\n3,4,5\n", {.header = false}),
                    Catch::Contains("line 2 has 3 fields, expected 2 (as the first row)"));
  // Malformed numbers.
  try {
    parse<float>("a,b\n1,2\n\n3,x7\n");
    FAIL("no exception");
  } catch (const CsvError& e) {
    CHECK(std::string(e.what()) == "read_csv(test.csv): line 4, column 2 ('b'): 'x7' is not a finite number");
    CHECK(e.line() == 4);
    CHECK(e.column() == 2);
  }
  for (const char* bad : {"1.2.3", "1e", "--1", "+-1", "++1", "0x10", "1,5e", "12abc", "infinity", "1e999"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse<double>(std::string("a\n\"") + bad + "\"\n"), CsvError);
  }
  CHECK_THROWS_WITH(parse<float>("a\n1e39\n"), Catch::Contains("'1e39' is not a finite number"));  // float overflow
  // Underflow is not an error: the nearest float of 1e-50 is 0 (from_chars alone reports it out of range).
  const auto tiny = parse<float>("a,b,c\n1e-50,-1e-60,1e-40\n");
  CHECK(tiny.X(0, 0) == 0.0f);
  CHECK(tiny.X(0, 1) == 0.0f);
  CHECK(std::signbit(tiny.X(0, 1)));
  CHECK(tiny.X(0, 2) == 1e-40f);  // subnormal, parsed directly
  if constexpr (std::numeric_limits<long double>::max_exponent10 > std::numeric_limits<double>::max_exponent10)
    CHECK(parse<double>("a\n1e-400\n").X(0, 0) == 0.0);
  CHECK_THROWS_WITH(parse<double>("a,b\n1,\n"), Catch::Contains("line 2, column 2 ('b'): '' is not"));
  CHECK_THROWS_WITH(parse<double>("\"a,b\n1\n"), Catch::Contains("line 1, column 1: unterminated quoted field"));
  CHECK_THROWS_WITH(parse<double>("\"a\"x,b\n1,2\n"), Catch::Contains("unexpected text after a closing quote"));
  // Columns that do not exist.
  CHECK_THROWS_WITH(parse<double>("a,b\n1,2\n", {.target = "label"}), Catch::Contains("target column 'label' is not in the header"));
  CHECK_THROWS_WITH(parse<double>("a,b\n1,2\n", {.target = 2}), Catch::Contains("target column index 2 is outside a table of 2 columns"));
  CHECK_THROWS_WITH(parse<double>("a,b\n1,2\n", {.target = -3}), Catch::Contains("outside"));
  CHECK_THROWS_WITH(parse<double>("1,2\n", {.header = false, .target = "a"}), Catch::Contains("header is false"));
  CHECK_THROWS_WITH(parse<double>("a,a\n1,2\n", {.target = "a"}), Catch::Contains("more than once"));
  CHECK_THROWS_WITH(parse<double>("a,b\n1,2\n", {.target = "a", .skip = {0}}), Catch::Contains("also skipped"));
  CHECK_THROWS_WITH(parse<double>("a,b\n1,2\n", {.skip = {"z"}}), Catch::Contains("skipped column 'z'"));
  // Empty inputs.
  CHECK_THROWS_WITH(parse<double>(""), Catch::EndsWith("the file is empty"));
  CHECK_THROWS_WITH(parse<double>("\n \r\n"), Catch::EndsWith("the file is empty"));
  CHECK_THROWS_WITH(parse<double>("", {.header = false}), Catch::EndsWith("the file is empty"));
  CHECK_THROWS_WITH(parse<double>("a,b\n\n"), Catch::EndsWith("no data rows after the header"));
  CHECK_THROWS_WITH(parse<double>("1\n", {.delimiter = '"'}), Catch::Contains("delimiter"));
  // Missing file.
  CHECK_THROWS_WITH(read_csv<double>("/nonexistent/eigenml/nothing.csv"),
                    Catch::Contains("cannot open '/nonexistent/eigenml/nothing.csv'"));
  // CsvError is an invalid_argument.
  CHECK_THROWS_AS(parse<double>("a\nb\n"), std::invalid_argument);
}

TEST_CASE("to_labels accepts only integers >= 0", "[data][csv]") {
  Eigen::VectorXd y(3);
  y << 0, 2, 1;
  CHECK(io::to_labels(y) == Eigen::Vector3i(0, 2, 1));
  y(1) = 1.5;
  CHECK_THROWS_WITH(io::to_labels(y), Catch::Contains("y(1) = 1.5 is not a class label"));
  y(1) = -1;
  CHECK_THROWS_WITH(io::to_labels(y), Catch::Contains("y(1) = -1"));
  y(1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(io::to_labels(y), std::invalid_argument);
  auto d = parse<double>("a\n1\n");
  CHECK_THROWS_WITH(d.labels(), Catch::Contains("no target column"));
}

TEMPLATE_TEST_CASE("write_csv and read_csv round-trip exactly", "[data][csv]", float, double) {
  using T = TestType;
  Rng rng(5);
  Matrix<T> X = random_normal<T>(7, 3, rng, 0.0, 1e3);
  X(0, 0) = T(1e-30);
  X(1, 1) = std::numeric_limits<T>::max();
  X(2, 2) = -std::numeric_limits<T>::denorm_min();
  X(3, 0) = T(0.1);
  Vector<T> y(7);
  y << 0, 1, 2, 0, 1, 2, 0;
  const std::vector<std::string> names{"plain", "with,comma", "with \"quote\""};

  TempFile f("roundtrip.csv");
  io::write_csv(f.str(), X, y, names, "label");
  auto d = read_csv<T>(f.str(), {.target = "label"});
  CHECK(d.columns == names);
  CHECK(d.X == X);  // bit-exact
  CHECK(d.y == y);

  TempFile g("roundtrip_noheader.csv");
  io::write_csv(g.str(), X);
  auto e = read_csv<T>(g.str(), {.header = false});
  CHECK(e.X == X);

  // Semicolons, NaN (read back with allow_nan), expressions as input.
  std::ostringstream out;
  Matrix<T> N = X.topRows(2);
  N(0, 1) = std::numeric_limits<T>::quiet_NaN();
  io::write_csv(out, N * T(0.5), Vector<T>(), {"a", "b", "c"}, "", ';');
  std::istringstream in(out.str());
  auto n = read_csv<T>(in, {.delimiter = ';', .allow_nan = true});
  CHECK(std::isnan(n.X(0, 1)));
  CHECK(n.X(1, 2) == T(0.5) * X(1, 2));
  CHECK(n.X(1, 1) == T(0.5) * X(1, 1));
}

TEST_CASE("write_csv rejects bad input", "[data][csv]") {
  Matrix<double> X(2, 2);
  X << 1, 2, 3, 4;
  Vector<double> y(3);
  y.setZero();
  std::ostringstream out;
  CHECK_THROWS_WITH(io::write_csv(out, X, y), Catch::Contains("X has shape 2x2 but y has shape 3x1"));
  CHECK_THROWS_WITH(io::write_csv(out, X, Vector<double>(), {"a"}), Catch::Contains("1 column names for X with 2"));
  X(1, 1) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(io::write_csv(out, X, Vector<double>()), Catch::Contains("Inf"));
  CHECK_THROWS_WITH(io::write_csv("/nonexistent/eigenml/out.csv", X), Catch::Contains("cannot open"));
}
