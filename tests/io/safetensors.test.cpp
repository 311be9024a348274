// The safetensors format layer: writer/reader round trips and every malformed-file case, with
// the files crafted byte by byte here so each test states exactly what is wrong.

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <type_traits>

#include "eigenml/io/safetensors.hpp"

using eigenml::Matrix;
using eigenml::Vector;
using eigenml::io::FormatError;
using eigenml::io::Safetensors;
using eigenml::io::SafetensorsWriter;

/// Both the type and the message: `expr` must throw FormatError whose message contains `fragment`.
#define CHECK_FORMAT_ERROR(expr, fragment)                           \
  do {                                                              \
    CHECK_THROWS_AS(expr, FormatError);                             \
    CHECK_THROWS_WITH(expr, Catch::Matchers::Contains(fragment));   \
  } while (false)

namespace {

/// The 8-byte little-endian length, the header text, the data bytes.
std::string file_bytes(const std::string& header, const std::string& data = "", std::uint64_t declared = UINT64_MAX) {
  const std::uint64_t n = declared == UINT64_MAX ? header.size() : declared;
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header + data;
}

std::string as_string(const std::vector<std::byte>& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

/// Parsing `bytes` must throw FormatError whose message contains `fragment`.
void require_format_error(const std::string& bytes, const std::string& fragment) {
  INFO("expecting FormatError containing: " << fragment);
  CHECK_FORMAT_ERROR(Safetensors::parse(bytes), fragment);
}

}  // namespace

TEST_CASE("FormatError is a std::runtime_error", "[io][safetensors]") {
  STATIC_REQUIRE(std::is_base_of_v<std::runtime_error, FormatError>);
}

TEMPLATE_TEST_CASE("safetensors writer and reader round-trip tensors and metadata", "[io][safetensors]", float,
                   double) {
  using T = TestType;
  Matrix<T> w(2, 3);
  w << 1, -2, 3.5, 4, 5e-3, -6;
  Vector<T> b(2);
  b << 0.25, -0.75;
  SafetensorsWriter writer;
  writer.add("layer.weight", w, {2, 3});
  writer.add("layer.bias", b, {2});
  writer.add("empty", Matrix<T>(0, 4), {0, 4});
  writer.add("scalar", Matrix<T>::Constant(1, 1, T(7)), {});
  writer.add_metadata("format_version", "1");
  writer.add_metadata("note", "h\xC3\xA9llo \"quoted\"");
  const auto bytes = writer.bytes();

  // Header padded so the data section (and every tensor) starts 8-byte aligned.
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);

  const Safetensors st = Safetensors::parse(bytes);
  CHECK(st.tensors().size() == 4);
  CHECK(st.metadata().at("format_version") == "1");
  CHECK(st.metadata().at("note") == "h\xC3\xA9llo \"quoted\"");
  const auto& info = st.info("layer.weight");
  CHECK(info.dtype == (std::is_same_v<T, float> ? "F32" : "F64"));
  CHECK(info.shape == std::vector<std::uint64_t>{2, 3});
  CHECK(st.info("scalar").shape.empty());
  CHECK(st.info("scalar").numel() == 1);
  CHECK(st.info("empty").numel() == 0);

  // Same precision: bit-identical. Other precision: converted.
  CHECK(st.matrix<T>("layer.weight", 2, 3) == w);
  CHECK(st.matrix<T>("layer.bias", 2, 1) == Matrix<T>(b));
  CHECK(st.matrix<double>("layer.weight", 2, 3) == w.template cast<double>());
  CHECK(st.matrix<float>("layer.weight", 2, 3) == w.template cast<float>());
  CHECK(st.matrix<T>("scalar", 1, 1)(0, 0) == T(7));
  CHECK(st.matrix<T>("empty", 0, 4).size() == 0);

  CHECK_FORMAT_ERROR(st.matrix<T>("layer.weight", 3, 3), "6 elements");
  CHECK_FORMAT_ERROR(st.info("nope"), "no tensor named 'nope'");
}

TEST_CASE("safetensors files round-trip through the file system", "[io][safetensors]") {
  const auto path = std::filesystem::temp_directory_path() / "eigenml_safetensors_roundtrip.safetensors";
  SafetensorsWriter writer;
  writer.add("x", Matrix<double>::Constant(2, 2, 1.5), {2, 2});
  writer.write(path);
  const Safetensors st = Safetensors::read(path);
  CHECK(st.matrix<double>("x", 2, 2) == Matrix<double>::Constant(2, 2, 1.5));
  std::filesystem::remove(path);
  CHECK_FORMAT_ERROR(Safetensors::read(path), "cannot open");
}

TEST_CASE("safetensors paths may be a filesystem path, a std::string or a C string", "[io][safetensors]") {
  using eigenml::io::PathLike;
  static_assert(PathLike<std::filesystem::path> && PathLike<std::string> && PathLike<const char*> &&
                PathLike<char[8]>);
  static_assert(!PathLike<int> && !PathLike<std::string_view>);  // the streams cannot open these
  const std::filesystem::path fs_path = std::filesystem::temp_directory_path() / "eigenml_path_kinds.safetensors";
  const std::string text = fs_path.string();
  SafetensorsWriter writer;
  writer.add("x", Matrix<double>::Constant(1, 3, 2.5), {1, 3});
  writer.write(text);
  CHECK(Safetensors::read(fs_path).matrix<double>("x", 1, 3) == Matrix<double>::Constant(1, 3, 2.5));
  CHECK(Safetensors::read(text.c_str()).contains("x"));
  std::filesystem::remove(fs_path);
  writer.write(fs_path);
  CHECK(Safetensors::read(text).contains("x"));
  std::filesystem::remove(fs_path);
  // Messages name the file whichever way it was given.
  CHECK_FORMAT_ERROR(Safetensors::read(fs_path), text + ": cannot open");
  CHECK_FORMAT_ERROR(Safetensors::read(text.c_str()), text + ": cannot open");
  CHECK_THROWS_WITH(writer.write(fs_path / "no_such_dir" / "x.safetensors"), Catch::Contains("no_such_dir/x.safetensors"));
}

TEST_CASE("safetensors reader accepts a hand-written file with unaligned data", "[io][safetensors]") {
  // Header of odd length: the F32 values start at an unaligned address.
  const float v[2] = {1.5f, -2.0f};
  const std::string data(reinterpret_cast<const char*>(v), sizeof v);
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const Safetensors st = Safetensors::parse(file_bytes(header + " ", data));
  const auto m = st.matrix<double>("a", 1, 2);
  CHECK(m(0, 0) == 1.5);
  CHECK(m(0, 1) == -2.0);
}

TEST_CASE("safetensors reader rejects malformed files with a clear FormatError", "[io][safetensors]") {
  const std::string f32x2 = std::string(8, '\0');  // two F32 zeros
  const auto entry = [](const std::string& name, const std::string& dtype, const std::string& shape, int b, int e) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
           std::to_string(b) + "," + std::to_string(e) + "]}";
  };

  SECTION("too short for the length field") {
    require_format_error("", "shorter than the 8-byte header length");
    require_format_error("abc", "shorter than the 8-byte header length");
  }
  SECTION("header length past the end of the file") {
    require_format_error(file_bytes("{}", "", 100), "runs past the end of the file");
  }
  SECTION("absurdly large header length is rejected before allocating") {
    require_format_error(file_bytes("{}", "", std::uint64_t{1} << 62), "exceeds the limit");
    require_format_error(file_bytes("{}", "", UINT64_MAX - 1), "exceeds the limit");
  }
  SECTION("invalid JSON") {
    require_format_error(file_bytes("{\"a\": "), "not valid JSON");
    require_format_error(file_bytes("{\"a\":1}}"), "not valid JSON");
    require_format_error(file_bytes("{\"\xff\":{}}"), "not valid JSON");  // invalid UTF-8
  }
  SECTION("header that is not an object") {
    require_format_error(file_bytes("[1, 2, 3]"), "not a JSON object");
    require_format_error(file_bytes("\"text\""), "not a JSON object");
  }
  SECTION("deep nesting") {
    require_format_error(file_bytes("{\"a\":" + std::string(5000, '[') + std::string(5000, ']') + "}"),
                         "nests deeper");
  }
  SECTION("tensor entry that is not an object or misses keys") {
    require_format_error(file_bytes(R"({"a": 3})"), "tensor 'a': header entry is not a JSON object");
    require_format_error(file_bytes(R"({"a": {"dtype":"F32","shape":[0]}})"), "missing 'data_offsets'");
    require_format_error(file_bytes(R"({"a": {"dtype":"F32","shape":[0],"data_offsets":[0,0],"x":1}})"),
                         "unexpected key 'x'");
    require_format_error(file_bytes(R"({"a": {"dtype":7,"shape":[0],"data_offsets":[0,0]}})"),
                         "dtype is not a string");
    require_format_error(file_bytes(R"({"a": {"dtype":"F32","shape":3,"data_offsets":[0,0]}})"),
                         "shape is not an array");
    require_format_error(file_bytes(R"({"a": {"dtype":"F32","shape":[0],"data_offsets":[0]}})"),
                         "data_offsets must be an array [begin, end]");
  }
  SECTION("unknown dtype") {
    require_format_error(file_bytes("{" + entry("a", "Q7", "[2]", 0, 8) + "}", f32x2), "unsupported dtype \"Q7\"");
  }
  SECTION("known but unsupported dtype parses, converting it throws") {
    const auto st = Safetensors::parse(file_bytes("{" + entry("h", "F16", "[4]", 0, 8) + "}", f32x2));
    CHECK_FORMAT_ERROR(st.matrix<float>("h", 1, 4), "unsupported dtype");
  }
  SECTION("shape entries must be non-negative integers") {
    require_format_error(file_bytes("{" + entry("a", "F32", "[-2]", 0, 8) + "}", f32x2), "non-negative integer");
    require_format_error(file_bytes("{" + entry("a", "F32", "[2.0]", 0, 8) + "}", f32x2), "non-negative integer");
    require_format_error(file_bytes("{" + entry("a", "F32", "[\"2\"]", 0, 8) + "}", f32x2),
                         "non-negative integer");
    require_format_error(file_bytes("{" + entry("a", "F32", "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,2]", 0, 8) + "}",
                                    f32x2),
                         "dimensions (at most 16)");
  }
  SECTION("shape and byte count disagree") {
    require_format_error(file_bytes("{" + entry("a", "F32", "[3]", 0, 8) + "}", f32x2), "needs more than the 8 bytes");
    require_format_error(file_bytes("{" + entry("a", "F64", "[2]", 0, 8) + "}", f32x2), "needs more than");
    require_format_error(file_bytes("{" + entry("a", "F32", "[1]", 0, 8) + "}", f32x2),
                         "needs 4 bytes but data_offsets give 8");
  }
  SECTION("shape product that overflows 64 bits") {
    require_format_error(file_bytes("{" + entry("a", "F32", "[4294967296,4294967296,4294967296]", 0, 8) + "}", f32x2),
                         "needs more than");
    require_format_error(
        file_bytes("{" + entry("a", "F64", "[18446744073709551615,18446744073709551615]", 0, 8) + "}", f32x2),
        "needs more than");
  }
  SECTION("a zero dimension makes the tensor empty whatever the other dimensions") {
    const auto st = Safetensors::parse(file_bytes("{" + entry("a", "F32", "[0,18446744073709551615]", 0, 0) + "}"));
    CHECK(st.info("a").numel() == 0);
  }
  SECTION("offsets out of bounds, reversed or negative") {
    require_format_error(file_bytes("{" + entry("a", "F32", "[4]", 0, 16) + "}", f32x2), "out of bounds");
    require_format_error(file_bytes("{" + entry("a", "F32", "[0]", 8, 4) + "}", f32x2), "begin > end");
    require_format_error(file_bytes("{" + entry("a", "F32", "[0]", -1, 0) + "}", f32x2), "non-negative integer");
    require_format_error(
        file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551615,18446744073709551615]}})",
                   f32x2),
        "out of bounds");
  }
  SECTION("overlapping tensors") {
    require_format_error(file_bytes("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[1]", 4, 8) + "}",
                                    f32x2),
                         "overlaps tensor");
  }
  SECTION("hole between tensors") {
    require_format_error(
        file_bytes("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}",
                   std::string(12, '\0')),
        "hole in the data section: bytes 4..8");
    require_format_error(file_bytes("{" + entry("a", "F32", "[1]", 4, 8) + "}", f32x2),
                         "hole in the data section: bytes 0..4");
  }
  SECTION("trailing bytes after the last tensor") {
    require_format_error(file_bytes("{" + entry("a", "F32", "[1]", 0, 4) + "}", f32x2), "4 trailing bytes");
    require_format_error(file_bytes("{}", "x"), "1 trailing bytes");
  }
  SECTION("duplicate names") {
    require_format_error(file_bytes("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 4, 8) + "}",
                                    f32x2),
                         "duplicate key 'a'");
    require_format_error(file_bytes(R"({"__metadata__":{"k":"1","k":"2"}})"), "duplicate key 'k'");
  }
  SECTION("metadata that is not string to string") {
    require_format_error(file_bytes(R"({"__metadata__":{"format_version":1}})"),
                         "__metadata__ value of 'format_version' is not a string");
    require_format_error(file_bytes(R"({"__metadata__":["a"]})"), "__metadata__ is not a JSON object");
  }
}

TEST_CASE("every truncation of a valid file throws FormatError", "[io][safetensors]") {
  SafetensorsWriter writer;
  writer.add("w", Matrix<float>::Constant(3, 2, 0.5f), {3, 2});
  writer.add("b", Matrix<double>::Constant(3, 1, 2.0), {3});
  writer.add_metadata("format_version", "1");
  const std::string full = as_string(writer.bytes());
  REQUIRE_NOTHROW(Safetensors::parse(full));
  for (std::size_t len = 0; len < full.size(); ++len) {
    INFO("truncated to " << len << " bytes");
    CHECK_THROWS_AS(Safetensors::parse(full.substr(0, len)), FormatError);
  }
}

TEST_CASE("safetensors writer validates its input", "[io][safetensors]") {
  SafetensorsWriter writer;
  writer.add("a", Matrix<float>::Zero(2, 2), {2, 2});
  CHECK_THROWS_AS(writer.add("a", Matrix<float>::Zero(2, 2), {2, 2}), std::invalid_argument);
  CHECK_THROWS_AS(writer.add("__metadata__", Matrix<float>::Zero(2, 2), {2, 2}), std::invalid_argument);
  CHECK_THROWS_AS(writer.add("c", Matrix<float>::Zero(2, 2), {3}), std::invalid_argument);
}
