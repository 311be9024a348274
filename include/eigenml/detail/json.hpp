#pragma once
/// \file detail/json.hpp
/// The JSON eigenml reads and writes: a small value type (`Json`) and a strict parser for
/// untrusted text (`parse_json_strict`). It serves the safetensors header and the model
/// architecture stored in its `__metadata__` (eigenml/io), and nothing more. An object is a
/// vector of members in the order they were added or read ("type" first in an architecture);
/// `find` searches it linearly, since the objects eigenml looks keys up in have a handful of
/// members (the large one, a header's tensors, is only iterated).
///
/// Numbers keep their kind: a non-negative integer is a `std::uint64_t` (all of 0 .. 2^64-1, as
/// safetensors offsets need), a negative one a `std::int64_t`, anything else a `double`.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "eigenml/io/format_error.hpp"

namespace eigenml::detail {

/// Deepest JSON nesting eigenml accepts in a file (a safetensors header nests 3 levels, a model
/// architecture a few more per nested Sequential).
inline constexpr int max_json_depth = 32;

/// One JSON value: null, boolean, number, string, array or object.
///
///     Json d = Json::object({{"type", "Dense"}, {"in_features", 4}});
///     d.set("out_features", 3);
///     d.dump();                               // {"type":"Dense","in_features":4,"out_features":3}
///     d.at("in_features").as_uint64();       // 4
///
/// The typed accessors (`as_*`, `elements`, `members`, `at`, `find`, ...) throw
/// `io::FormatError` when the value is of another kind: values come from files, and a file whose
/// value has the wrong kind is malformed. (The loaders check kinds first, so they can name the
/// field; the throw is the backstop.)
///
/// A value is 16 bytes, a tag and a scalar or a pointer to its string, array or object, so a
/// header of millions of small numbers stays within about 16 bytes per number. (Not a
/// std::variant: GCC 12 -O2 reports false "may be used uninitialized" errors when one holding a
/// vector is moved, in every translation unit that saves a model.)
class Json {
 public:
  using Array = std::vector<Json>;
  using Member = std::pair<std::string, Json>;
  using Object = std::vector<Member>;

  Json() noexcept = default;  ///< null
  Json(std::nullptr_t) noexcept {}
  /// Only `bool` itself (a pointer or an int must not turn into a boolean silently).
  template <class B>
    requires std::is_same_v<B, bool>
  Json(B b) noexcept : kind_(Kind::boolean) {
    v_.b = b;
  }
  template <class I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
  Json(I i) noexcept {
    if constexpr (std::is_signed_v<I>)
      if (i < 0) {
        kind_ = Kind::negative;
        v_.i = static_cast<std::int64_t>(i);
        return;
      }
    kind_ = Kind::unsigned_integer;
    v_.u = static_cast<std::uint64_t>(i);
  }
  Json(double d) noexcept : kind_(Kind::real) { v_.d = d; }
  Json(const char* s) : Json(std::string(s)) {}
  Json(std::string s) : kind_(Kind::string) { v_.s = new std::string(std::move(s)); }

  Json(const Json& other) : kind_(other.kind_), v_(other.v_) {
    if (kind_ == Kind::string) v_.s = new std::string(*other.v_.s);
    if (kind_ == Kind::array) v_.a = new Array(*other.v_.a);
    if (kind_ == Kind::object) v_.o = new Object(*other.v_.o);
  }
  Json(Json&& other) noexcept : kind_(other.kind_), v_(other.v_) { other.kind_ = Kind::null; }
  /// Copy or move assignment (the copy, if any, is made before anything here changes).
  Json& operator=(Json other) noexcept {
    std::swap(kind_, other.kind_);
    std::swap(v_, other.v_);
    return *this;
  }
  ~Json() {
    if (kind_ == Kind::string) delete v_.s;
    if (kind_ == Kind::array) delete v_.a;
    if (kind_ == Kind::object) delete v_.o;
  }

  static Json array(std::initializer_list<Json> elements = {}) { return Json(Array(elements)); }
  /// An object with `members` in that order (a repeated key keeps its first position and its
  /// last value, as `set` does).
  static Json object(std::initializer_list<Member> members = {}) {
    Json j{Object{}};
    for (const auto& [key, value] : members) j.set(key, value);
    return j;
  }

  bool is_null() const { return kind_ == Kind::null; }
  bool is_bool() const { return kind_ == Kind::boolean; }
  /// Any number: integer or double.
  bool is_number() const { return is_integer() || is_double(); }
  /// An integer (kept exactly), of either sign.
  bool is_integer() const { return kind_ == Kind::unsigned_integer || kind_ == Kind::negative; }
  /// A non-negative integer (0 .. 2^64-1).
  bool is_unsigned() const { return kind_ == Kind::unsigned_integer; }
  /// A number with a fraction or an exponent, or an integer too large for 64 bits.
  bool is_double() const { return kind_ == Kind::real; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_array() const { return kind_ == Kind::array; }
  bool is_object() const { return kind_ == Kind::object; }

  bool as_bool() const {
    expect(Kind::boolean, "a boolean");
    return v_.b;
  }
  const std::string& as_string() const {
    expect(Kind::string, "a string");
    return *v_.s;
  }
  std::uint64_t as_uint64() const {
    expect(Kind::unsigned_integer, "a non-negative integer");
    return v_.u;
  }
  std::int64_t as_int64() const {
    if (kind_ == Kind::negative) return v_.i;
    expect(Kind::unsigned_integer, "an integer");
    if (v_.u > static_cast<std::uint64_t>(INT64_MAX))
      throw io::FormatError("JSON integer " + std::to_string(v_.u) + " does not fit in a signed 64-bit integer");
    return static_cast<std::int64_t>(v_.u);
  }
  /// Any number, converted to double (an integer beyond 2^53 is rounded).
  double as_double() const {
    if (kind_ == Kind::negative) return static_cast<double>(v_.i);
    if (kind_ == Kind::unsigned_integer) return static_cast<double>(v_.u);
    expect(Kind::real, "a number");
    return v_.d;
  }

  const Array& elements() const {
    expect(Kind::array, "an array");
    return *v_.a;
  }
  const Object& members() const {
    expect(Kind::object, "an object");
    return *v_.o;
  }
  /// Number of elements of an array or members of an object.
  std::size_t size() const {
    if (kind_ == Kind::array) return v_.a->size();
    expect(Kind::object, "an array or an object");
    return v_.o->size();
  }
  bool empty() const { return size() == 0; }

  /// Element `i` of an array.
  const Json& at(std::size_t i) const {
    const Array& a = elements();
    if (i >= a.size())
      throw io::FormatError("JSON array index " + std::to_string(i) + " out of range (size " + std::to_string(a.size()) +
                            ")");
    return a[i];
  }
  /// Member `key` of an object, or nullptr.
  const Json* find(std::string_view key) const {
    for (const auto& [k, v] : members())
      if (k == key) return &v;
    return nullptr;
  }
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  /// Member `key` of an object; throws FormatError if there is none.
  const Json& at(std::string_view key) const {
    if (const Json* v = find(key)) return *v;
    throw io::FormatError("JSON object has no member '" + std::string(key) + "'");
  }

  /// Appends to an array.
  void push_back(Json value) {
    expect(Kind::array, "an array");
    v_.a->push_back(std::move(value));
  }
  /// Sets member `key` of an object: replaces its value in place, or appends it.
  Json& set(std::string key, Json value) {
    expect(Kind::object, "an object");
    for (auto& [k, v] : *v_.o)
      if (k == key) {
        v = std::move(value);
        return *this;
      }
    v_.o->emplace_back(std::move(key), std::move(value));
    return *this;
  }

  /// Compact JSON text (no whitespace); doubles in their shortest form that reads back exactly
  /// (with ".0" added to an integral value, so it reads back as a double). Throws
  /// std::invalid_argument for NaN or Inf (JSON has neither) and for a string that is not UTF-8.
  std::string dump() const {
    std::string out;
    dump_to(out);
    return out;
  }
  void dump_to(std::string& out) const;

 private:
  friend class JsonParser;
  enum class Kind : unsigned char { null, boolean, negative, unsigned_integer, real, string, array, object };
  union Value {
    bool b;
    std::int64_t i;   // negative integers only
    std::uint64_t u;  // non-negative integers
    double d;
    std::string* s;
    Array* a;
    Object* o;
  };

  explicit Json(Array a) : kind_(Kind::array) { v_.a = new Array(std::move(a)); }
  explicit Json(Object o) : kind_(Kind::object) { v_.o = new Object(std::move(o)); }

  void expect(Kind kind, const char* expected) const {
    static constexpr const char* names[] = {"null",     "a boolean", "an integer", "an integer",
                                            "a number", "a string",  "an array",   "an object"};
    if (kind_ != kind)
      throw io::FormatError(std::string("JSON value is ") + names[static_cast<int>(kind_)] + ", expected " + expected);
  }

  Kind kind_ = Kind::null;
  Value v_{.u = 0};
};

/// Length of the well-formed UTF-8 sequence that starts `s` with a byte >= 0x80, or 0 if there
/// is none (overlong forms, UTF-16 surrogates, code points past U+10FFFF and truncated sequences
/// are all malformed).
inline std::size_t utf8_sequence_length(std::string_view s) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    if (lead == 0xE0) lo = 0xA0;  // below: overlong
    if (lead == 0xED) hi = 0x9F;  // above: U+D800..U+DFFF, surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    if (lead == 0xF0) lo = 0x90;  // below: overlong
    if (lead == 0xF4) hi = 0x8F;  // above: past U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  return n;
}

/// `s` as a JSON string literal: quotes, `"` `\` and control characters escaped, everything
/// else (UTF-8 included) as it is. Throws std::invalid_argument if `s` is not UTF-8.
inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence_length(s.substr(i));
      if (n == 0)
        throw std::invalid_argument("JSON: cannot write a string that is not valid UTF-8 (byte " + std::to_string(i) +
                                    ")");
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

inline void Json::dump_to(std::string& out) const {
  char buf[32];  // the longest double, "-2.2250738585072014e-308", has 24 characters
  const auto append_chars = [&](auto v) {
    out.append(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, v).ptr - buf));
  };
  switch (kind_) {
    case Kind::null: out += "null"; break;
    case Kind::boolean: out += v_.b ? "true" : "false"; break;
    case Kind::negative: append_chars(v_.i); break;
    case Kind::unsigned_integer: append_chars(v_.u); break;
    case Kind::real: {
      if (!std::isfinite(v_.d)) throw std::invalid_argument("JSON: cannot write NaN or Inf (JSON has no such numbers)");
      const std::size_t start = out.size();
      append_chars(v_.d);  // the shortest text that reads back to the same double
      if (out.find_first_of(".e", start) == std::string::npos) out += ".0";
      break;
    }
    case Kind::string: append_json_string(out, *v_.s); break;
    case Kind::array:
      out += '[';
      for (std::size_t k = 0; k < v_.a->size(); ++k) {
        if (k) out += ',';
        (*v_.a)[k].dump_to(out);
      }
      out += ']';
      break;
    case Kind::object:
      out += '{';
      for (std::size_t k = 0; k < v_.o->size(); ++k) {
        if (k) out += ',';
        append_json_string(out, (*v_.o)[k].first);
        out += ':';
        (*v_.o)[k].second.dump_to(out);
      }
      out += '}';
      break;
  }
}

/// Recursive-descent parser of RFC 8259 JSON with eigenml's limits; see parse_json_strict.
class JsonParser {
 public:
  JsonParser(std::string_view text, const std::string& what) : text_(text), what_(what) {}

  Json parse_document() {
    skip_whitespace();
    if (at_end()) syntax_error(text_.empty() ? "empty input" : "no value, only whitespace");
    Json value = parse_value(0);
    skip_whitespace();
    if (!at_end()) syntax_error("unexpected " + describe_next() + " after the JSON value");
    return value;
  }

 private:
  /// `depth` counts the arrays and objects around the value.
  Json parse_value(int depth) {
    const char c = at_end() ? '\0' : text_[pos_];
    switch (c) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return Json(parse_string());
      case 't': return parse_literal("true", Json(true));
      case 'f': return parse_literal("false", Json(false));
      case 'n': return parse_literal("null", Json());
      default:
        if (c == '-' || is_digit(c)) return parse_number();
        syntax_error("expected a value, found " + describe_next());
    }
  }

  Json parse_array(int depth) {
    check_depth(depth);
    const std::size_t open = pos_++;
    Json::Array elements;
    skip_whitespace();
    if (next_is(']')) {
      ++pos_;
      return Json(std::move(elements));
    }
    while (true) {
      skip_whitespace();
      if (at_end()) syntax_error_at(open, "unterminated array");
      elements.push_back(parse_value(depth + 1));
      skip_whitespace();
      if (at_end()) syntax_error_at(open, "unterminated array");
      if (next_is(']')) break;
      if (!next_is(',')) syntax_error("expected ',' or ']' in an array, found " + describe_next());
      ++pos_;
    }
    ++pos_;
    return Json(std::move(elements));
  }

  Json parse_object(int depth) {
    check_depth(depth);
    const std::size_t open = pos_++;
    Json::Object members;
    std::set<std::string> keys;  // lookup in `members` is linear; a file may have many keys
    skip_whitespace();
    if (next_is('}')) {
      ++pos_;
      return Json(std::move(members));
    }
    while (true) {
      skip_whitespace();
      if (at_end()) syntax_error_at(open, "unterminated object");
      if (!next_is('"')) syntax_error("expected a string key in an object, found " + describe_next());
      const std::size_t key_pos = pos_;
      std::string key = parse_string();
      if (!keys.insert(key).second) fail_at(key_pos, what_ + ": duplicate key '" + key + "'");
      skip_whitespace();
      if (at_end()) syntax_error_at(open, "unterminated object");
      if (!next_is(':')) syntax_error("expected ':' after an object key, found " + describe_next());
      ++pos_;
      skip_whitespace();
      if (at_end()) syntax_error_at(open, "unterminated object");
      Json value = parse_value(depth + 1);
      members.emplace_back(std::move(key), std::move(value));
      skip_whitespace();
      if (at_end()) syntax_error_at(open, "unterminated object");
      if (next_is('}')) break;
      if (!next_is(',')) syntax_error("expected ',' or '}' in an object, found " + describe_next());
      ++pos_;
    }
    ++pos_;
    return Json(std::move(members));
  }

  /// A string literal, decoded to UTF-8; pos_ is at its opening quote.
  std::string parse_string() {
    const std::size_t open = pos_++;
    std::string out;
    while (true) {
      if (at_end()) syntax_error_at(open, "unterminated string");
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        parse_escape(out, open);
      } else if (c < 0x20) {
        syntax_error("raw control character " + hex_byte(c) + " in a string (it must be escaped)");
      } else if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
      } else {
        const std::size_t n = utf8_sequence_length(text_.substr(pos_));
        if (n == 0) syntax_error("invalid UTF-8 in a string");
        out.append(text_.substr(pos_, n));
        pos_ += n;
      }
    }
  }

  /// One escape sequence; pos_ is at its backslash.
  void parse_escape(std::string& out, std::size_t open) {
    const std::size_t start = pos_++;
    if (at_end()) syntax_error_at(open, "unterminated string");
    const char e = text_[pos_++];
    switch (e) {
      case '"': out += '"'; return;
      case '\\': out += '\\'; return;
      case '/': out += '/'; return;
      case 'b': out += '\b'; return;
      case 'f': out += '\f'; return;
      case 'n': out += '\n'; return;
      case 'r': out += '\r'; return;
      case 't': out += '\t'; return;
      case 'u': break;
      default:
        syntax_error_at(start, is_printable(e) ? "invalid escape '\\" + std::string(1, e) + "'"
                                               : "invalid escape: '\\' followed by byte " + hex_byte(e));
    }
    std::uint32_t code = read_hex4(start);
    if (code >= 0xDC00 && code <= 0xDFFF)
      syntax_error_at(start, "lone low surrogate \\u" + hex4(code) + " (no high surrogate before it)");
    if (code >= 0xD800 && code <= 0xDBFF) {
      // A code point above U+FFFF: the pair \uD8xx-\uDBFF \uDC00-\uDFFF.
      if (text_.substr(pos_, 2) != "\\u")
        syntax_error_at(start, "lone high surrogate \\u" + hex4(code) + " (not followed by a \\u low surrogate)");
      const std::size_t second = pos_;
      pos_ += 2;
      const std::uint32_t low = read_hex4(second);
      if (low < 0xDC00 || low > 0xDFFF)
        syntax_error_at(second, "high surrogate \\u" + hex4(code) + " followed by \\u" + hex4(low) +
                                    ", which is not a low surrogate");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, code);
  }

  /// The 4 hex digits of a \u escape starting at `escape`; pos_ is after its "\u".
  std::uint32_t read_hex4(std::size_t escape) {
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k, ++pos_) {
      const char c = at_end() ? '\0' : text_[pos_];
      std::uint32_t d = 0;
      if (c >= '0' && c <= '9')
        d = static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        d = static_cast<std::uint32_t>(c - 'A' + 10);
      else
        syntax_error_at(escape, "invalid \\u escape (it needs 4 hex digits)");
      v = v * 16 + d;
    }
    return v;
  }

  static void append_utf8(std::string& out, std::uint32_t code) {
    const auto put = [&](std::uint32_t b) { out += static_cast<char>(static_cast<unsigned char>(b)); };
    if (code < 0x80) {
      put(code);
    } else if (code < 0x800) {
      put(0xC0 | (code >> 6));
      put(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      put(0xE0 | (code >> 12));
      put(0x80 | ((code >> 6) & 0x3F));
      put(0x80 | (code & 0x3F));
    } else {
      put(0xF0 | (code >> 18));
      put(0x80 | ((code >> 12) & 0x3F));
      put(0x80 | ((code >> 6) & 0x3F));
      put(0x80 | (code & 0x3F));
    }
  }

  /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; an integer that fits 64 bits stays an integer.
  Json parse_number() {
    const std::size_t start = pos_;
    const bool negative = next_is('-');
    if (negative) ++pos_;
    if (!next_is_digit()) syntax_error("expected a digit after '-', found " + describe_next());
    if (next_is('0')) {
      ++pos_;
      if (next_is_digit()) syntax_error_at(start, "leading zero in a number");
    } else {
      skip_digits();
    }
    bool integral = true;
    if (next_is('.')) {
      ++pos_;
      integral = false;
      if (!next_is_digit()) syntax_error("expected a digit after the decimal point, found " + describe_next());
      skip_digits();
    }
    if (next_is('e') || next_is('E')) {
      ++pos_;
      integral = false;
      if (next_is('+') || next_is('-')) ++pos_;
      if (!next_is_digit()) syntax_error("expected a digit in the exponent, found " + describe_next());
      skip_digits();
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (integral) {
      if (negative) {
        std::int64_t i = 0;
        if (std::from_chars(first, last, i).ec == std::errc()) return Json(i);
      } else {
        std::uint64_t u = 0;
        if (std::from_chars(first, last, u).ec == std::errc()) return Json(u);
      }
      // Too large for 64 bits: a double, like any other number.
    }
    double d = 0;
    const auto [end, ec] = std::from_chars(first, last, d);
    if (ec != std::errc() || end != last)  // result_out_of_range: beyond +-1.8e308, or so small it would be 0
      fail_at(start, what_ + ": number " + excerpt(start, pos_) + " is outside the range of a double");
    return Json(d);
  }

  Json parse_literal(std::string_view word, Json value) {
    if (text_.substr(pos_, word.size()) != word) syntax_error("expected a value, found " + describe_next());
    pos_ += word.size();
    return value;
  }

  void check_depth(int depth) const {
    if (depth >= max_json_depth)
      fail_at(pos_, what_ + ": JSON nests deeper than " + std::to_string(max_json_depth) + " levels");
  }

  bool at_end() const { return pos_ >= text_.size(); }
  bool next_is(char c) const { return !at_end() && text_[pos_] == c; }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  bool next_is_digit() const { return !at_end() && is_digit(text_[pos_]); }
  void skip_digits() {
    while (next_is_digit()) ++pos_;
  }
  void skip_whitespace() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) ++pos_;
  }

  static bool is_printable(char c) { return c >= 0x20 && c < 0x7F; }
  static std::string hex_byte(char c) {
    static constexpr char hex[] = "0123456789ABCDEF";
    const auto b = static_cast<unsigned char>(c);
    return std::string("0x") + hex[b >> 4] + hex[b & 0xF];
  }
  static std::string hex4(std::uint32_t v) {
    static constexpr char hex[] = "0123456789ABCDEF";
    return {hex[(v >> 12) & 0xF], hex[(v >> 8) & 0xF], hex[(v >> 4) & 0xF], hex[v & 0xF]};
  }
  /// "end of the input", "'x'" or "byte 0xFF": what the parser is looking at, for messages.
  std::string describe_next() const {
    if (at_end()) return "the end of the input";
    const char c = text_[pos_];
    return is_printable(c) ? "'" + std::string(1, c) + "'" : "byte " + hex_byte(c);
  }
  /// text_[begin, end), shortened to 40 characters for a message.
  std::string excerpt(std::size_t begin, std::size_t end) const {
    return end - begin <= 40 ? std::string(text_.substr(begin, end - begin))
                             : std::string(text_.substr(begin, 37)) + "...";
  }

  [[noreturn]] void fail_at(std::size_t at, const std::string& message) const {
    throw io::FormatError(message + " at byte " + std::to_string(at));
  }
  [[noreturn]] void syntax_error_at(std::size_t at, const std::string& reason) const {
    fail_at(at, what_ + " is not valid JSON: " + reason);
  }
  [[noreturn]] void syntax_error(const std::string& reason) const { syntax_error_at(pos_, reason); }

  std::string_view text_;
  const std::string& what_;
  std::size_t pos_ = 0;
};

/// Parses JSON text from an untrusted file: RFC 8259 exactly (UTF-8, no comments, no trailing
/// commas, no leading zeros, no NaN), and in addition it rejects duplicate keys (which would
/// silently overwrite each other), nesting deeper than `max_json_depth` (checked before
/// descending, so the recursion is bounded) and numbers beyond double's range (rather than
/// reading them as Inf or 0). Throws FormatError: "<what> is not valid JSON: <reason> at byte N"
/// for a syntax error, "<what>: duplicate key 'k' at byte N", "<what>: JSON nests deeper than 32
/// levels at byte N" or "<what>: number ... is outside the range of a double at byte N" (N
/// counts from 0 at the start of `text`).
inline Json parse_json_strict(std::string_view text, const std::string& what) {
  return JsonParser(text, what).parse_document();
}

}  // namespace eigenml::detail
