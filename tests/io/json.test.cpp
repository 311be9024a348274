// eigenml's own JSON (detail/json.hpp): values, compact output, and the strict parser the model
// loader runs on untrusted files, with every rejection and its message.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "eigenml/detail/json.hpp"

using eigenml::detail::Json;
using eigenml::io::FormatError;

namespace {

Json parse(const std::string& text) { return eigenml::detail::parse_json_strict(text, "doc"); }

/// dump(parse(text)), for documents already in compact form.
std::string round_trip(const std::string& text) { return parse(text).dump(); }

/// Parsing `text` must throw FormatError whose message contains `fragment`.
void require_rejected(const std::string& text, const std::string& fragment) {
  INFO("parsing: " << text);
  CHECK_THROWS_AS(parse(text), FormatError);
  CHECK_THROWS_WITH(parse(text), Catch::Matchers::Contains(fragment));
}

}  // namespace

TEST_CASE("JSON documents round-trip through parse and dump", "[io][json]") {
  // A model architecture and a safetensors header as eigenml writes them.
  const std::string arch =
      R"({"layers":[{"type":"Dense","in_features":4,"out_features":3},{"type":"ReLU"},)"
      R"({"type":"Dropout","p":0.3},{"type":"LeakyReLU","slope":0.20000000298023224},)"
      R"({"type":"GRU","input_size":2,"hidden_size":4,"seq_len":3,"return_sequences":false},)"
      R"({"type":"Sequential","layers":[{"type":"Softmax"}]}]})";
  CHECK(round_trip(arch) == arch);
  const std::string header =
      R"({"__metadata__":{"format_version":"1","note":"h\u00e9"},)"
      R"("0.weight":{"dtype":"F32","shape":[3,4],"data_offsets":[0,48]}})";
  CHECK(round_trip(header) == R"({"__metadata__":{"format_version":"1","note":"h)" "\xC3\xA9" R"("},)"
                              R"("0.weight":{"dtype":"F32","shape":[3,4],"data_offsets":[0,48]}})");
  for (const std::string text : {"null", "true", "false", "0", "-1", "\"\"", "[]", "{}", "[[],{},[null]]",
                                 R"({"b":1,"a":2,"c":{"z":[],"y":{}}})"})
    CHECK(round_trip(text) == text);
  // Whitespace anywhere between tokens is accepted and not written.
  CHECK(round_trip(" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } }\n ") == R"({"a":[1,2],"b":{}})");
}

TEST_CASE("JSON objects keep their keys in insertion order", "[io][json]") {
  Json d = Json::object({{"type", "Conv2D"}, {"kernel", 3}});
  d.set("stride", 1).set("padding", 0).set("kernel", 5);  // kernel replaced in place
  CHECK(d.dump() == R"({"type":"Conv2D","kernel":5,"stride":1,"padding":0})");
  const Json parsed = parse(R"({"z":1,"a":2,"m":3})");
  REQUIRE(parsed.size() == 3);
  CHECK(parsed.members()[0].first == "z");
  CHECK(parsed.members()[1].first == "a");
  CHECK(parsed.members()[2].first == "m");
  CHECK(parsed.at("a").as_uint64() == 2);
  CHECK(parsed.contains("m"));
  CHECK_FALSE(parsed.contains("q"));
  CHECK(parsed.find("q") == nullptr);
}

TEST_CASE("JSON integers are exact over the whole 64-bit range", "[io][json]") {
  const Json max = parse("18446744073709551615");
  REQUIRE(max.is_unsigned());
  CHECK(max.as_uint64() == std::numeric_limits<std::uint64_t>::max());
  CHECK(max.dump() == "18446744073709551615");
  const Json min = parse("-9223372036854775808");
  REQUIRE(min.is_integer());
  CHECK_FALSE(min.is_unsigned());
  CHECK(min.as_int64() == std::numeric_limits<std::int64_t>::min());
  CHECK(min.dump() == "-9223372036854775808");
  CHECK(parse("-42").as_int64() == -42);
  CHECK(parse("9223372036854775807").as_int64() == std::numeric_limits<std::int64_t>::max());
  CHECK(parse("0").is_unsigned());
  CHECK(parse("-0").as_int64() == 0);
  CHECK(round_trip("[0,1,-1,4294967296,-4294967296,18446744073709551615]") ==
        "[0,1,-1,4294967296,-4294967296,18446744073709551615]");

  // Built from C++ integers of any type: non-negative ones are unsigned, negative ones signed.
  CHECK(Json(std::numeric_limits<std::uint64_t>::max()).dump() == "18446744073709551615");
  CHECK(Json(std::numeric_limits<std::int64_t>::min()).dump() == "-9223372036854775808");
  CHECK(Json(7).is_unsigned());
  CHECK(Json(-7).as_int64() == -7);
  CHECK_THROWS_AS(Json(-7).as_uint64(), FormatError);
  CHECK_THROWS_AS(max.as_int64(), FormatError);

  // Beyond 64 bits: a double, not an error and not a wrapped integer.
  const Json big = parse("18446744073709551616");
  CHECK(big.is_double());
  CHECK(big.as_double() == 18446744073709551616.0);
  CHECK(parse("-9223372036854775809").is_double());
}

TEST_CASE("JSON doubles are written in their shortest exact form", "[io][json]") {
  for (const double x : {0.1, 1e-300, 1.7976931348623157e308, -0.0, 5e-324, 2.5, -1e22, 123456.789,
                         static_cast<double>(0.2f)}) {
    INFO("x = " << x);
    const Json parsed = parse(Json(x).dump());
    REQUIRE(parsed.is_double());
    CHECK(parsed.as_double() == x);
    CHECK(std::signbit(parsed.as_double()) == std::signbit(x));
  }
  CHECK(Json(0.1).dump() == "0.1");
  CHECK(Json(1e-300).dump() == "1e-300");
  CHECK(Json(1.7976931348623157e308).dump() == "1.7976931348623157e+308");
  CHECK(Json(-0.0).dump() == "-0.0");
  CHECK(Json(2.0).dump() == "2.0");  // stays a double when read back
  CHECK(parse("2.0").is_double());
  CHECK(parse("1E2").as_double() == 100.0);
  CHECK(parse("-1.5e-3").as_double() == -0.0015);
  CHECK(parse("3").as_double() == 3.0);  // integers read as doubles on request
  CHECK(round_trip("[0.1,1e-300,1.7976931348623157e+308,-0.0]") == "[0.1,1e-300,1.7976931348623157e+308,-0.0]");
}

TEST_CASE("JSON never writes NaN, Inf or invalid UTF-8", "[io][json]") {
  CHECK_THROWS_AS(Json(std::numeric_limits<double>::quiet_NaN()).dump(), std::invalid_argument);
  CHECK_THROWS_AS(Json(std::numeric_limits<double>::infinity()).dump(), std::invalid_argument);
  CHECK_THROWS_AS(Json::array({1, -std::numeric_limits<double>::infinity()}).dump(), std::invalid_argument);
  CHECK_THROWS_WITH(Json(std::numeric_limits<double>::quiet_NaN()).dump(), Catch::Matchers::Contains("NaN or Inf"));
  CHECK_THROWS_AS(Json(std::string("a\xFF")).dump(), std::invalid_argument);
  CHECK_THROWS_AS(Json::object({{"\xC3", 1}}).dump(), std::invalid_argument);  // truncated sequence in a key
}

TEST_CASE("JSON strings: escapes and surrogate pairs decode to UTF-8", "[io][json]") {
  CHECK(parse(R"("\"\\\/\b\f\n\r\t")").as_string() == "\"\\/\b\f\n\r\t");
  CHECK(parse(R"("\u0041\u00e9\u20AC")").as_string() == "A\xC3\xA9\xE2\x82\xAC");      // A, e acute, euro
  CHECK(parse(R"("\ud83d\ude00")").as_string() == "\xF0\x9F\x98\x80");                // U+1F600
  CHECK(parse(R"("\uDBFF\uDFFF")").as_string() == "\xF4\x8F\xBF\xBF");                // U+10FFFF
  CHECK(parse(R"("a\u0000b")").as_string() == std::string("a\0b", 3));
  CHECK(parse("\"h\xC3\xA9llo \xF0\x9F\x98\x80\"").as_string() == "h\xC3\xA9llo \xF0\x9F\x98\x80");  // raw UTF-8
  CHECK(parse("\"\x7F\"").as_string() == "\x7F");  // DEL is not a control character in JSON

  // Written back: quote, backslash and control characters escaped, UTF-8 as it is.
  CHECK(Json(std::string("q\"b\\s/\n\x01\x1F\t\xC3\xA9", 12)).dump() == "\"q\\\"b\\\\s/\\n\\u0001\\u001f\\t\xC3\xA9\"");
  CHECK(Json(std::string("a\0b", 3)).dump() == R"("a\u0000b")");
  CHECK(round_trip(R"(["\u0001x\n"])") == R"(["\u0001x\n"])");
}

TEST_CASE("JSON accessors check the kind of the value", "[io][json]") {
  const Json doc = parse(R"({"s":"x","n":1.5,"a":[1,2],"b":true,"z":null})");
  CHECK(doc.at("s").is_string());
  CHECK(doc.at("n").is_number());
  CHECK_FALSE(doc.at("n").is_integer());
  CHECK(doc.at("a").size() == 2);
  CHECK(doc.at("a").at(1).as_uint64() == 2);
  CHECK(doc.at("b").as_bool());
  CHECK(doc.at("z").is_null());
  CHECK_THROWS_WITH(doc.at("s").as_double(), Catch::Matchers::Contains("JSON value is a string, expected a number"));
  CHECK_THROWS_WITH(doc.at("n").as_uint64(), Catch::Matchers::Contains("expected a non-negative integer"));
  CHECK_THROWS_WITH(doc.at("a").members(), Catch::Matchers::Contains("JSON value is an array, expected an object"));
  CHECK_THROWS_WITH(doc.at("a").at(2), Catch::Matchers::Contains("index 2 out of range"));
  CHECK_THROWS_WITH(doc.at("missing"), Catch::Matchers::Contains("no member 'missing'"));
  CHECK_THROWS_AS(doc.at("z").size(), FormatError);
  CHECK_THROWS_AS(doc.at("b").as_string(), FormatError);
}

TEST_CASE("the strict JSON parser rejects what RFC 8259 forbids, naming the byte", "[io][json]") {
  SECTION("empty input and trailing garbage") {
    require_rejected("", "doc is not valid JSON: empty input at byte 0");
    require_rejected("  \n ", "no value, only whitespace at byte 4");
    require_rejected(R"({"a":1}})", "unexpected '}' after the JSON value at byte 7");
    require_rejected("[1] x", "unexpected 'x' after the JSON value at byte 4");
    require_rejected("1 2", "at byte 2");
    require_rejected("nul", "expected a value, found 'n' at byte 0");
    require_rejected("truex", "unexpected 'x' after the JSON value at byte 4");
  }
  SECTION("unterminated strings, arrays and objects") {
    require_rejected(R"("abc)", "unterminated string at byte 0");
    require_rejected(R"(["a\)", "unterminated string at byte 1");
    require_rejected("[1, 2", "unterminated array at byte 0");
    require_rejected("[1,", "unterminated array at byte 0");
    require_rejected(R"({"a":[1]}, {"b": )", "unexpected ','");
    require_rejected(R"({"a": 1)", "unterminated object at byte 0");
    require_rejected(R"({"a")", "unterminated object at byte 0");
    require_rejected(R"([{"a":)", "unterminated object at byte 1");
  }
  SECTION("structure") {
    require_rejected("[1,]", "expected a value, found ']' at byte 3");
    require_rejected("[1 2]", "expected ',' or ']' in an array, found '2' at byte 3");
    require_rejected(R"({"a":1,})", "expected a string key in an object, found '}' at byte 7");
    require_rejected("{a:1}", "expected a string key in an object, found 'a' at byte 1");
    require_rejected(R"({"a" 1})", "expected ':' after an object key, found '1' at byte 5");
    require_rejected(R"({"a":1 "b":2})", "expected ',' or '}' in an object, found '\"' at byte 7");
    require_rejected("'a'", "expected a value, found ''' at byte 0");
    require_rejected("[NaN]", "expected a value, found 'N' at byte 1");
    require_rejected("\xEF\xBB\xBF{}", "expected a value, found byte 0xEF at byte 0");  // no byte order mark
    require_rejected(std::string("[1]\0", 4), "unexpected byte 0x00 after the JSON value at byte 3");
  }
  SECTION("numbers") {
    require_rejected("01", "leading zero in a number at byte 0");
    require_rejected("[-012]", "leading zero in a number at byte 1");
    require_rejected("+1", "expected a value, found '+' at byte 0");
    require_rejected(".5", "expected a value, found '.' at byte 0");
    require_rejected("-", "expected a digit after '-', found the end of the input at byte 1");
    require_rejected("1.", "expected a digit after the decimal point");
    require_rejected("1.e5", "expected a digit after the decimal point, found 'e' at byte 2");
    require_rejected("1e", "expected a digit in the exponent");
    require_rejected("1e+", "expected a digit in the exponent, found the end of the input at byte 3");
    require_rejected("0x10", "unexpected 'x' after the JSON value at byte 1");
  }
  SECTION("numbers beyond double's range") {
    require_rejected("1e400", "doc: number 1e400 is outside the range of a double at byte 0");
    require_rejected("[-1e400]", "number -1e400 is outside the range of a double at byte 1");
    require_rejected("1e-400", "number 1e-400 is outside the range of a double");  // would read as 0
    require_rejected("1" + std::string(400, '0'), "outside the range of a double");
    // A long number is shortened in the message.
    require_rejected(std::string(50, '9') + "e300", "number " + std::string(37, '9') + "... is outside");
    CHECK(parse("1.7976931348623157e308").as_double() == std::numeric_limits<double>::max());
    CHECK(parse("4.9e-324").as_double() == std::numeric_limits<double>::denorm_min());
  }
  SECTION("escapes") {
    require_rejected(R"("\q")", "invalid escape '\\q' at byte 1");
    require_rejected(R"("ab\x41")", "invalid escape '\\x' at byte 3");
    require_rejected(R"("\u12")", "invalid \\u escape (it needs 4 hex digits) at byte 1");
    require_rejected(R"("\u12G4")", "invalid \\u escape");
    require_rejected("\"\\\xC3\xA9\"", "invalid escape: '\\' followed by byte 0xC3 at byte 1");
  }
  SECTION("lone or mismatched UTF-16 surrogates") {
    require_rejected(R"("\ud800")", "lone high surrogate \\uD800 (not followed by a \\u low surrogate) at byte 1");
    require_rejected(R"("x\uD83Dabc")", "lone high surrogate \\uD83D");
    require_rejected(R"("\uDC00")", "lone low surrogate \\uDC00 (no high surrogate before it) at byte 1");
    require_rejected(R"("\ude00\ud83d")", "lone low surrogate \\uDE00");
    require_rejected(R"("\ud83d\u0041")", "high surrogate \\uD83D followed by \\u0041, which is not a low surrogate at byte 7");
    require_rejected(R"("\ud83d\ud83d")", "which is not a low surrogate");
    require_rejected(R"("\ud83d\n")", "lone high surrogate");
  }
  SECTION("raw control characters in strings") {
    require_rejected("\"a\nb\"", "raw control character 0x0A in a string (it must be escaped) at byte 2");
    require_rejected("\"\t\"", "raw control character 0x09");
    require_rejected(std::string("\"\0\"", 3), "raw control character 0x00 in a string");
    require_rejected("{\"k\x1F\":1}", "raw control character 0x1F");
  }
  SECTION("invalid UTF-8") {
    require_rejected("\"\xFF\"", "invalid UTF-8 in a string at byte 1");
    require_rejected("\"ab\x80\"", "invalid UTF-8 in a string at byte 3");      // lone continuation byte
    require_rejected("\"\xC0\xAF\"", "invalid UTF-8");                           // overlong '/'
    require_rejected("\"\xE0\x80\xAF\"", "invalid UTF-8");                       // overlong, 3 bytes
    require_rejected("\"\xF0\x80\x80\xAF\"", "invalid UTF-8");                   // overlong, 4 bytes
    require_rejected("\"\xED\xA0\x80\"", "invalid UTF-8");                       // U+D800 encoded directly
    require_rejected("\"\xF4\x90\x80\x80\"", "invalid UTF-8");                   // U+110000
    require_rejected("\"\xF5\x80\x80\x80\"", "invalid UTF-8");
    require_rejected("\"\xC3\"", "invalid UTF-8");                               // sequence cut by the quote
    require_rejected("\"\xE2\x82", "invalid UTF-8 in a string at byte 1");       // cut by the end of input
    require_rejected("{\"\xC3\x28\":1}", "invalid UTF-8 in a string at byte 2");  // in a key
    CHECK(parse("\"\xED\x9F\xBF\xEE\x80\x80\xF4\x8F\xBF\xBF\"").as_string().size() == 10);  // U+D7FF U+E000 U+10FFFF
  }
  SECTION("duplicate keys") {
    require_rejected(R"({"a":1,"a":2})", "doc: duplicate key 'a' at byte 7");
    require_rejected(R"({"x":{"k":"1","b":2,"k":"2"}})", "duplicate key 'k' at byte 20");
    require_rejected(R"({"\u0061":1,"a":2})", "duplicate key 'a'");  // equal after unescaping
    CHECK(parse(R"([{"a":1},{"a":2}])").size() == 2);                 // the same key in two objects is fine
    CHECK(parse(R"({"a":{"a":{"a":1}}})").at("a").at("a").at("a").as_uint64() == 1);
  }
  SECTION("nesting deeper than max_json_depth") {
    static_assert(eigenml::detail::max_json_depth == 32);
    const auto nested = [](int depth) { return std::string(static_cast<std::size_t>(depth), '[') +
                                               std::string(static_cast<std::size_t>(depth), ']'); };
    CHECK(parse(nested(32)).dump() == nested(32));
    require_rejected(nested(33), "doc: JSON nests deeper than 32 levels at byte 32");
    std::string objects;
    for (int k = 0; k < 33; ++k) objects += "{\"a\":";
    objects += "1" + std::string(33, '}');
    require_rejected(objects, "JSON nests deeper than 32 levels at byte 160");
    // Far deeper than any stack could recurse: rejected at level 33, no crash.
    require_rejected(std::string(1000000, '['), "nests deeper than 32 levels");
  }
}
