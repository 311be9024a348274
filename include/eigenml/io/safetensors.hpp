#pragma once
/// \file io/safetensors.hpp
/// Reading and writing the safetensors format (https://github.com/huggingface/safetensors):
///
///     [8 bytes]  N, the header length, a little-endian unsigned 64-bit integer
///     [N bytes]  a UTF-8 JSON object: {"<name>": {"dtype": "F32", "shape": [2, 3],
///                "data_offsets": [begin, end]}, ..., "__metadata__": {"<key>": "<string>"}}
///     [rest]     the tensors' bytes, little-endian, C order; offsets are relative to the start
///                of this section; tensors lie back to back, no holes, no overlap, nothing after
///                the last one.
///
/// The reader trusts nothing: every length, offset and shape is checked before it is used, the
/// header is bounded before anything is allocated for it, and every violation throws
/// `eigenml::io::FormatError` naming what is wrong. It works on an in-memory buffer
/// (`Safetensors::parse`) as well as a path (`Safetensors::read`).

#include <algorithm>
#include <bit>
#include <concepts>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/json.hpp"
#include "eigenml/io/format_error.hpp"

namespace eigenml::io {

// The tensor bytes are copied to and from memory as they are; the format is little-endian.
static_assert(std::endian::native == std::endian::little, "eigenml's safetensors code assumes a little-endian host");

/// A file name: anything the file streams open, i.e. a `std::filesystem::path`, a `std::string` or
/// a C string. Taken as a template parameter rather than as `std::filesystem::path` so that the
/// headers need not include <filesystem>, which cost every program including `eigenml.hpp` ~0.3 s
/// of compile time whether or not it touches a file.
template <class P>
concept PathLike = std::constructible_from<std::ifstream, const P&>;

/// `path` as text, for messages.
template <PathLike P>
std::string path_text(const P& path) {
  if constexpr (requires { path.string(); })
    return path.string();
  else
    return std::string(path);
}

/// Bytes per element of a safetensors dtype name, or 0 when the name is not a safetensors dtype.
inline std::size_t dtype_size(std::string_view dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "BOOL" || dtype == "U8" || dtype == "I8" || dtype == "F8_E4M3" || dtype == "F8_E5M2") return 1;
  return 0;
}

/// The safetensors dtype name of a scalar type eigenml writes.
template <class T>
constexpr const char* dtype_name() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "eigenml writes F32 and F64 tensors only");
  return std::is_same_v<T, float> ? "F32" : "F64";
}

/// One tensor's header entry: dtype, shape and where its bytes lie in the data section.
struct TensorInfo {
  std::string dtype;
  std::vector<std::uint64_t> shape;
  std::uint64_t begin = 0;  ///< offset of the first byte in the data section
  std::uint64_t end = 0;    ///< one past the last byte

  /// Number of elements (the product of the shape; 1 for a 0-d tensor). Overflow was ruled out
  /// when the header was parsed.
  std::uint64_t numel() const {
    std::uint64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

/// "[2, 3, 4]": a shape as PyTorch prints it, for messages.
inline std::string shape_string(const std::vector<std::uint64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// A parsed safetensors file: the header (tensors and metadata) and a private copy of the data
/// section. Parsing validates the whole file; afterwards every accessor is safe.
class Safetensors {
 public:
  /// Headers longer than this are rejected before anything is allocated for them (the
  /// reference implementation uses the same bound).
  static constexpr std::uint64_t max_header_bytes = 100u << 20;
  /// Most dimensions a tensor may have.
  static constexpr std::size_t max_rank = 16;

  /// Parses a whole file held in memory. Throws FormatError when anything is wrong.
  static Safetensors parse(std::span<const std::byte> bytes) {
    Safetensors st;
    st.parse_impl(bytes);
    return st;
  }
  static Safetensors parse(std::string_view bytes) {
    return parse(std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
  }

  /// Reads and parses the file at `path`; messages start with the path.
  template <PathLike P>
  static Safetensors read(const P& path) {
    std::vector<std::byte> bytes = read_file(path);
    try {
      return parse(bytes);
    } catch (const FormatError& e) {
      throw FormatError(path_text(path) + ": " + e.what());
    }
  }

  /// The whole file at `path` (throws FormatError if it cannot be read).
  template <PathLike P>
  static std::vector<std::byte> read_file(const P& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw FormatError(path_text(path) + ": cannot open file for reading");
    const std::streamoff size = in.tellg();
    if (size < 0) throw FormatError(path_text(path) + ": cannot determine the file size");
    std::vector<std::byte> bytes(static_cast<std::size_t>(size));
    in.seekg(0);
    if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
      throw FormatError(path_text(path) + ": read error");
    return bytes;
  }

  /// Tensors by name (the map is sorted by name, not by position in the file).
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  /// The `__metadata__` entries (all strings), empty when the file has none.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }

  /// The header entry of tensor `name`; throws FormatError if there is none.
  const TensorInfo& info(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw FormatError("safetensors: no tensor named '" + name + "'");
    return it->second;
  }

  /// The raw bytes of tensor `name`.
  std::span<const std::byte> bytes(const std::string& name) const {
    const TensorInfo& t = info(name);
    return std::span<const std::byte>(data_).subspan(static_cast<std::size_t>(t.begin),
                                                      static_cast<std::size_t>(t.end - t.begin));
  }

  /// Copies tensor `name` (F32 or F64) into `out`, converting to `T`. `out.size()` must equal the
  /// tensor's element count. Any other dtype throws FormatError "unsupported dtype".
  template <class T>
  void copy_to(const std::string& name, std::span<T> out) const {
    static_assert(std::is_floating_point_v<T>);
    const TensorInfo& t = info(name);
    if (t.numel() != out.size())
      throw FormatError("safetensors: tensor '" + name + "' has " + std::to_string(t.numel()) + " elements, expected " +
                        std::to_string(out.size()));
    const std::byte* src = data_.data() + t.begin;
    if (t.dtype == "F32")
      convert<float>(src, out);
    else if (t.dtype == "F64")
      convert<double>(src, out);
    else
      throw FormatError("safetensors: tensor '" + name + "' has unsupported dtype \"" + t.dtype +
                        "\" (eigenml reads F32 and F64)");
  }

  /// Tensor `name` as a `rows x cols` row-major matrix (C order), converted to `T`.
  template <class T>
  Matrix<T> matrix(const std::string& name, Index rows, Index cols) const {
    Matrix<T> m(rows, cols);
    copy_to<T>(name, std::span<T>(m.data(), static_cast<std::size_t>(m.size())));
    return m;
  }

 private:
  template <class Src, class T>
  static void convert(const std::byte* src, std::span<T> out) {
    // memcpy per element: the data section need not be aligned for Src.
    for (std::size_t i = 0; i < out.size(); ++i) {
      Src v;
      std::memcpy(&v, src + i * sizeof(Src), sizeof(Src));
      out[i] = static_cast<T>(v);
    }
  }

  [[noreturn]] static void fail(const std::string& what) { throw FormatError("safetensors: " + what); }

  static std::uint64_t read_u64_le(const std::byte* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
    return v;
  }

  /// A non-negative JSON integer, or fail naming `what`.
  static std::uint64_t as_u64(const detail::Json& j, const std::string& what) {
    if (!j.is_unsigned()) fail(what + " must be a non-negative integer, got " + j.dump());
    return j.as_uint64();
  }

  void parse_impl(std::span<const std::byte> file) {
    if (file.size() < 8)
      fail("file is " + std::to_string(file.size()) +
           " bytes, shorter than the 8-byte header length (truncated or not a safetensors file)");
    const std::uint64_t n = read_u64_le(file.data());
    if (n > max_header_bytes)
      fail("header length " + std::to_string(n) + " exceeds the limit of " + std::to_string(max_header_bytes) +
           " bytes (corrupt file?)");
    if (n > file.size() - 8)
      fail("header length " + std::to_string(n) + " runs past the end of the file (" +
           std::to_string(file.size() - 8) + " bytes after the length field; truncated?)");
    if (n < 2) fail("header length " + std::to_string(n) + " is too short for a JSON object");
    const char* hbegin = reinterpret_cast<const char*>(file.data() + 8);
    if (*hbegin != '{') fail("header does not start with '{' (not a JSON object)");
    const detail::Json header = detail::parse_json_strict(std::string_view(hbegin, static_cast<std::size_t>(n)),
                                                            "safetensors: header");
    if (!header.is_object()) fail("header is not a JSON object");

    const std::span<const std::byte> data = file.subspan(static_cast<std::size_t>(8 + n));
    const std::uint64_t data_size = data.size();

    for (const auto& [name, entry] : header.members()) {
      if (name == "__metadata__") {
        if (!entry.is_object()) fail("__metadata__ is not a JSON object");
        for (const auto& [key, value] : entry.members()) {
          if (!value.is_string()) fail("__metadata__ value of '" + key + "' is not a string: " + value.dump());
          metadata_.emplace(key, value.as_string());
        }
        continue;
      }
      tensors_.emplace(name, parse_entry(name, entry, data_size));
    }

    // Tensors must tile the data section exactly: sort by position and walk it.
    std::vector<std::pair<const std::string*, const TensorInfo*>> order;
    for (const auto& [name, t] : tensors_) order.emplace_back(&name, &t);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return std::tie(a.second->begin, a.second->end) < std::tie(b.second->begin, b.second->end);
    });
    std::uint64_t pos = 0;
    const std::string* prev = nullptr;
    for (const auto& [name, t] : order) {
      if (t->begin < pos)
        fail("tensor '" + *name + "' (bytes " + std::to_string(t->begin) + ".." + std::to_string(t->end) +
             ") overlaps tensor '" + *prev + "' (which ends at " + std::to_string(pos) + ")");
      if (t->begin > pos)
        fail("hole in the data section: bytes " + std::to_string(pos) + ".." + std::to_string(t->begin) +
             " belong to no tensor (before tensor '" + *name + "')");
      pos = t->end;
      prev = name;
    }
    if (pos != data_size)
      fail(std::to_string(data_size - pos) + " trailing bytes after the last tensor (data section is " +
           std::to_string(data_size) + " bytes, tensors cover " + std::to_string(pos) + ")");
    data_.assign(data.begin(), data.end());
  }

  static TensorInfo parse_entry(const std::string& name, const detail::Json& entry, std::uint64_t data_size) {
    const std::string where = "tensor '" + name + "'";
    if (!entry.is_object()) fail(where + ": header entry is not a JSON object");
    for (const auto& [key, value] : entry.members())
      if (key != "dtype" && key != "shape" && key != "data_offsets") fail(where + ": unexpected key '" + key + "'");
    for (const char* key : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(key)) fail(where + ": missing '" + key + "'");

    TensorInfo t;
    const detail::Json& dtype = entry.at("dtype");
    if (!dtype.is_string()) fail(where + ": dtype is not a string");
    t.dtype = dtype.as_string();
    const std::size_t esize = dtype_size(t.dtype);
    if (esize == 0) fail(where + " has unsupported dtype \"" + t.dtype + "\" (not a safetensors dtype)");

    const detail::Json& shape = entry.at("shape");
    if (!shape.is_array()) fail(where + ": shape is not an array");
    if (shape.size() > max_rank)
      fail(where + ": shape has " + std::to_string(shape.size()) + " dimensions (at most " +
           std::to_string(max_rank) + ")");
    for (const auto& d : shape.elements()) t.shape.push_back(as_u64(d, where + ": every shape entry"));

    const detail::Json& offsets = entry.at("data_offsets");
    if (!offsets.is_array() || offsets.size() != 2) fail(where + ": data_offsets must be an array [begin, end]");
    t.begin = as_u64(offsets.at(0), where + ": data_offsets begin");
    t.end = as_u64(offsets.at(1), where + ": data_offsets end");
    if (t.begin > t.end)
      fail(where + ": data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "] has begin > end");
    if (t.end > data_size)
      fail(where + ": data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
           "] out of bounds (the data section has " + std::to_string(data_size) + " bytes)");

    // Element count times element size must equal the byte span. The product is checked for
    // overflow step by step (a zero dimension makes it 0 whatever the others are).
    const std::uint64_t span = t.end - t.begin;
    bool zero = std::find(t.shape.begin(), t.shape.end(), std::uint64_t{0}) != t.shape.end();
    std::uint64_t bytes = zero ? 0 : esize;
    if (!zero)
      for (auto d : t.shape) {
        if (bytes > span / d)  // bytes * d > span (and maybe overflow): cannot match
          fail(where + ": shape " + shape_string(t.shape) + " of " + t.dtype + " needs more than the " +
               std::to_string(span) + " bytes its data_offsets give");
        bytes *= d;
      }
    if (bytes != span)
      fail(where + ": shape " + shape_string(t.shape) + " of " + t.dtype + " needs " + std::to_string(bytes) +
           " bytes but data_offsets give " + std::to_string(span));
    return t;
  }

  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
  std::vector<std::byte> data_;
};

/// Builds a safetensors file: tensors are laid out in the order they are added, the header is
/// padded with spaces to a multiple of 8 bytes so every tensor starts 8-byte aligned.
class SafetensorsWriter {
 public:
  /// Adds `values` (float or double, read in row-major / C order) as tensor `name` of `shape`;
  /// the product of `shape` must equal `values.size()`.
  template <class Derived>
  void add(const std::string& name, const Eigen::DenseBase<Derived>& values, std::vector<std::uint64_t> shape) {
    using T = typename Derived::Scalar;
    if (name == "__metadata__" || names_.count(name))
      throw std::invalid_argument("SafetensorsWriter::add: tensor name '" + name + "' is reserved or already used");
    std::uint64_t numel = 1;
    for (auto d : shape) numel *= d;
    if (numel != static_cast<std::uint64_t>(values.size()))
      throw std::invalid_argument("SafetensorsWriter::add: tensor '" + name + "' has " +
                                  std::to_string(values.size()) + " values but shape " + shape_string(shape));
    // Assigning to the row-major Matrix<T> puts the values in C order whatever the source layout.
    const Matrix<T> rm = values.derived();
    const std::size_t nbytes = static_cast<std::size_t>(rm.size()) * sizeof(T);
    const std::uint64_t begin = data_.size();
    data_.resize(data_.size() + nbytes);
    if (nbytes) std::memcpy(data_.data() + begin, rm.data(), nbytes);
    detail::Json shape_json = detail::Json::array();
    for (auto d : shape) shape_json.push_back(d);
    entries_.emplace_back(name, detail::Json::object({{"dtype", dtype_name<T>()},
                                                      {"shape", std::move(shape_json)},
                                                      {"data_offsets", detail::Json::array({begin, data_.size()})}}));
    names_.insert(name);
  }

  /// Adds a `__metadata__` entry (values are strings, as the format requires); a key added
  /// again gets the new value.
  void add_metadata(const std::string& key, const std::string& value) { metadata_.set(key, value); }

  /// The whole file. Throws std::invalid_argument if a name or metadata string is not UTF-8.
  std::vector<std::byte> bytes() const {
    // {"__metadata__": {...}, "<tensor>": {...}, ...}: metadata first, then the tensors in the
    // order of their data. Written member by member (not as one Json object, whose `set` would
    // search the members already there for every tensor: quadratic in the tensor count).
    std::string json = "{";
    if (!metadata_.empty()) {
      detail::append_json_string(json, "__metadata__");
      json += ':';
      metadata_.dump_to(json);
    }
    for (const auto& [name, entry] : entries_) {
      if (json.size() > 1) json += ',';
      detail::append_json_string(json, name);
      json += ':';
      entry.dump_to(json);
    }
    json += '}';
    json.append((8 - json.size() % 8) % 8, ' ');
    std::vector<std::byte> out(8 + json.size() + data_.size());
    std::uint64_t n = json.size();
    for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::byte>((n >> (8 * i)) & 0xFF);
    std::memcpy(out.data() + 8, json.data(), json.size());
    if (!data_.empty()) std::memcpy(out.data() + 8 + json.size(), data_.data(), data_.size());
    return out;
  }

  /// Writes the file to `path` (throws std::runtime_error if it cannot).
  template <PathLike P>
  void write(const P& path) const {
    const auto b = bytes();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot open '" + path_text(path) + "' for writing");
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out) throw std::runtime_error("error writing '" + path_text(path) + "'");
  }

 private:
  std::vector<std::pair<std::string, detail::Json>> entries_;  ///< tensor header entries, in data order
  detail::Json metadata_ = detail::Json::object();
  std::set<std::string> names_;
  std::vector<std::byte> data_;
};

}  // namespace eigenml::io
