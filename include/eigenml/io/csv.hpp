#pragma once
/// \file io/csv.hpp
/// Numeric CSV files: read a table of numbers into a design matrix (and optionally a target
/// column), write one back.
///
/// ```cpp
/// auto data = eigenml::io::read_csv<double>("digits.csv", {.target = "label"});
/// // data.X: 1797 x 64, data.y: 1797 targets, data.columns: the 64 feature names
/// eigenml::Labels y = data.labels();   // checks every target is an integer >= 0
/// eigenml::io::write_csv("out.csv", data.X, data.y, data.columns, "label");
/// ```
///
/// What is accepted: one record per line (LF or CRLF), fields split at `delimiter`, optional
/// double quotes around a field (`""` inside quotes is one quote; quoted fields cannot span lines),
/// spaces and tabs around a field ignored, a leading UTF-8 byte order mark ignored, blank lines
/// skipped (so an empty trailing line is fine). Every non-header field must be a number in C
/// locale syntax (`12`, `-0.5`, `1e-3`, `+2`); `nan` and empty fields only with `allow_nan`;
/// `inf` never. Anything else throws `io::CsvError` naming the line (1-based, as an editor counts)
/// and the column (1-based, with its header name).

#include <Eigen/Core>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "eigenml/core.hpp"

namespace eigenml::io {

/// A malformed CSV file (or one that cannot be read). `line()` and `column()` are 1-based and 0
/// when the problem is not about one line or column.
class CsvError : public std::invalid_argument {
 public:
  CsvError(const std::string& what, Index line = 0, Index column = 0)
      : std::invalid_argument(what), line_(line), column_(column) {}
  Index line() const noexcept { return line_; }
  Index column() const noexcept { return column_; }

 private:
  Index line_;
  Index column_;
};

/// A column named by its header name or by its 0-based position (negative counts from the end:
/// -1 is the last column, as in Python). Default-constructed: no column.
class ColumnRef {
 public:
  ColumnRef() = default;
  ColumnRef(const char* name) : name_(name) {}          // NOLINT: implicit on purpose (designated initializers)
  ColumnRef(std::string name) : name_(std::move(name)) {}  // NOLINT
  ColumnRef(int index) : index_(index) {}                // NOLINT

  bool empty() const { return !name_ && !index_; }
  std::string str() const { return name_ ? "'" + *name_ + "'" : (index_ ? std::to_string(*index_) : "(none)"); }

  /// The 0-based column this refers to in a table with `names` (empty when there is no header).
  Index resolve(const std::vector<std::string>& names, Index num_columns, bool has_header, std::string_view what) const {
    if (name_) {
      if (!has_header)
        throw CsvError("read_csv: " + std::string(what) + " column " + str() +
                       " is given by name but CsvOptions.header is false (name it by index)");
      Index found = -1;
      for (std::size_t j = 0; j < names.size(); ++j)
        if (names[j] == *name_) {
          if (found >= 0)
            throw CsvError("read_csv: " + std::string(what) + " column " + str() + " appears more than once in the header",
                           1);
          found = static_cast<Index>(j);
        }
      if (found < 0) throw CsvError("read_csv: " + std::string(what) + " column " + str() + " is not in the header", 1);
      return found;
    }
    const Index j = *index_ < 0 ? num_columns + *index_ : *index_;
    if (j < 0 || j >= num_columns)
      throw CsvError("read_csv: " + std::string(what) + " column index " + std::to_string(*index_) +
                     " is outside a table of " + std::to_string(num_columns) + " columns");
    return j;
  }

 private:
  std::optional<std::string> name_;
  std::optional<int> index_;
};

/// How `read_csv` reads a file.
struct CsvOptions {
  char delimiter = ',';           ///< field separator (',' ';' '\t' ...; not '"', a space or a newline)
  bool header = true;             ///< the first non-blank line holds the column names
  ColumnRef target = {};          ///< the column returned as `y` (by name or index); none: all go to `X`
  std::vector<ColumnRef> skip = {};  ///< columns to ignore (their values are still never parsed)
  bool allow_nan = false;         ///< accept `nan` (any case) and empty fields, read as quiet NaN
};

/// Converts a column of targets to class labels: every value must be an integer >= 0 (and below
/// 2^31). Throws std::invalid_argument naming the first row that is not.
template <class Derived>
Labels to_labels(const Eigen::MatrixBase<Derived>& y) {
  if (y.cols() != 1)
    throw std::invalid_argument("io::to_labels: y has shape " + std::to_string(y.rows()) + "x" +
                                std::to_string(y.cols()) + ", expected a column");
  Labels out(y.rows());
  for (Index i = 0; i < y.rows(); ++i) {
    const double v = static_cast<double>(y(i, 0));
    if (!(std::isfinite(v) && v >= 0 && v == std::floor(v) && v <= std::numeric_limits<int>::max())) {
      std::ostringstream s;
      s << "io::to_labels: y(" << i << ") = " << v << " is not a class label (an integer >= 0)";
      throw std::invalid_argument(s.str());
    }
    out(i) = static_cast<int>(v);
  }
  return out;
}

/// What `read_csv` returns.
template <class T>
struct CsvData {
  Matrix<T> X;                       ///< n x d: every column but the target and the skipped ones, in file order
  Vector<T> y;                       ///< n targets (empty when no target was asked for)
  std::vector<std::string> columns;  ///< the d names of X's columns (`column_<j>` without a header)
  std::string target_name;           ///< the target column's name (empty when none)

  /// `y` as class labels; see to_labels.
  Labels labels() const {
    if (y.size() == 0)
      throw std::invalid_argument("CsvData::labels: no target column was read (set CsvOptions.target)");
    return to_labels(y);
  }
};

namespace detail_csv {

inline std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

/// Splits one line into fields (quotes removed, `""` unescaped, surrounding blanks trimmed).
inline std::vector<std::string> split_fields(std::string_view line, char delim, Index line_no) {
  std::vector<std::string> fields;
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t') && line[i] != delim) ++i;
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field += line[i++];
      }
      if (!closed)
        throw CsvError("read_csv: line " + std::to_string(line_no) + ", column " + std::to_string(fields.size() + 1) +
                           ": unterminated quoted field",
                       line_no, static_cast<Index>(fields.size() + 1));
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t') && line[i] != delim) ++i;
      if (i < line.size() && line[i] != delim)
        throw CsvError("read_csv: line " + std::to_string(line_no) + ", column " + std::to_string(fields.size() + 1) +
                           ": unexpected text after a closing quote",
                       line_no, static_cast<Index>(fields.size() + 1));
    } else {
      const std::size_t end = std::min(line.find(delim, i), line.size());
      field = std::string(trim(line.substr(i, end - i)));
      i = end;
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) break;
    ++i;  // past the delimiter; a delimiter at the very end means one more (empty) field
    if (i == line.size()) {
      fields.emplace_back();
      break;
    }
  }
  return fields;
}

/// Parses a whole field as a T. Returns nullopt when it is not a (finite, in-range) number.
template <class T>
std::optional<T> parse_number(std::string_view s, bool allow_nan) {
  if (allow_nan) {
    if (s.empty()) return std::numeric_limits<T>::quiet_NaN();
    if (s.size() == 3 && (s[0] == 'n' || s[0] == 'N') && (s[1] == 'a' || s[1] == 'A') && (s[2] == 'n' || s[2] == 'N'))
      return std::numeric_limits<T>::quiet_NaN();
  }
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);  // from_chars does not take a '+' sign; "+-1" is not a number either
    if (!s.empty() && s[0] == '-') return std::nullopt;
  }
  if (s.empty()) return std::nullopt;
  // from_chars would accept "inf"/"nan" spellings: only plain decimal syntax is a number here.
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return std::nullopt;
  const char* const last = s.data() + s.size();
  T value{};
  auto [end, ec] = std::from_chars(s.data(), last, value, std::chars_format::general);
  if (ec == std::errc::result_out_of_range && end == last) {
    // from_chars reports underflow (a magnitude that rounds to 0, e.g. 1e-50 as a float) like
    // overflow. An underflow is a number, whose nearest T is ±0: reparsed in the wider long double
    // it comes back below 1 in magnitude. (Where long double is double, a double underflow such as
    // 1e-400 stays rejected.)
    long double wide{};
    const auto r = std::from_chars(s.data(), last, wide, std::chars_format::general);
    if (r.ec == std::errc() && r.ptr == last && std::abs(wide) < 1) {
      value = static_cast<T>(wide);
      ec = std::errc();
    }
  }
  if (ec != std::errc() || end != last || !std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace detail_csv

/// Reads a numeric CSV table from a stream. `source` names it in error messages.
template <class T>
CsvData<T> read_csv(std::istream& in, const CsvOptions& options = {}, const std::string& source = "<stream>") {
  static_assert(std::is_floating_point_v<T>, "read_csv<T>: T must be float or double");
  const char delim = options.delimiter;
  if (delim == '"' || delim == ' ' || delim == '\n' || delim == '\r')
    throw CsvError("read_csv: CsvOptions.delimiter cannot be a quote, a space or a line break");
  const std::string where = "read_csv(" + source + ")";

  std::vector<std::string> names;
  Index num_columns = -1;
  std::vector<Index> x_cols;  // file columns that go to X, in order
  Index target_col = -1;
  std::vector<char> role;     // per file column: 'x', 't' (target) or 's' (skipped)
  std::vector<T> values;      // X row after row
  std::vector<T> targets;
  Index rows = 0;

  // Decides which column is what, once the number of columns is known.
  auto setup = [&](Index ncols) {
    num_columns = ncols;
    if (!options.header)
      for (Index j = 0; j < ncols; ++j) names.push_back("column_" + std::to_string(j));
    role.assign(static_cast<std::size_t>(ncols), 'x');
    for (const ColumnRef& c : options.skip) role[static_cast<std::size_t>(c.resolve(names, ncols, options.header, "skipped"))] = 's';
    if (!options.target.empty()) {
      target_col = options.target.resolve(names, ncols, options.header, "target");
      if (role[static_cast<std::size_t>(target_col)] == 's')
        throw CsvError(where + ": the target column " + options.target.str() + " is also skipped");
      role[static_cast<std::size_t>(target_col)] = 't';
    }
    for (Index j = 0; j < ncols; ++j)
      if (role[static_cast<std::size_t>(j)] == 'x') x_cols.push_back(j);
  };
  auto column_label = [&](Index j) {
    return std::to_string(j + 1) + (j < static_cast<Index>(names.size()) ? " ('" + names[static_cast<std::size_t>(j)] + "')" : "");
  };

  std::string line;
  Index line_no = 0;
  Index nonblank = 0;
  bool header_done = !options.header;
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view view(line);
    if (line_no == 1 && view.substr(0, 3) == "\xEF\xBB\xBF") view.remove_prefix(3);  // UTF-8 BOM
    if (!view.empty() && view.back() == '\r') view.remove_suffix(1);                // CRLF
    if (detail_csv::trim(view).empty()) continue;
    ++nonblank;
    std::vector<std::string> fields = detail_csv::split_fields(view, delim, line_no);
    if (!header_done) {
      names = std::move(fields);
      setup(static_cast<Index>(names.size()));
      header_done = true;
      continue;
    }
    if (num_columns < 0) setup(static_cast<Index>(fields.size()));
    if (static_cast<Index>(fields.size()) != num_columns)
      throw CsvError(where + ": line " + std::to_string(line_no) + " has " + std::to_string(fields.size()) +
                         " fields, expected " + std::to_string(num_columns) +
                         (options.header ? " (as the header)" : " (as the first row)"),
                     line_no, 0);
    for (Index j = 0; j < num_columns; ++j) {
      const char r = role[static_cast<std::size_t>(j)];
      if (r == 's') continue;
      const std::string& f = fields[static_cast<std::size_t>(j)];
      const auto v = detail_csv::parse_number<T>(f, options.allow_nan);
      if (!v)
        throw CsvError(where + ": line " + std::to_string(line_no) + ", column " + column_label(j) + ": '" + f +
                           "' is not a " + (options.allow_nan ? "number or nan" : "finite number"),
                       line_no, j + 1);
      (r == 't' ? targets : values).push_back(*v);
    }
    ++rows;
  }
  if (in.bad()) throw CsvError(where + ": read error");
  if (rows == 0)
    throw CsvError(where + (nonblank == 0 ? ": the file is empty"
                                                                             : ": no data rows after the header"));

  CsvData<T> out;
  const auto d = static_cast<Index>(x_cols.size());
  out.X = Eigen::Map<const Matrix<T>>(values.data(), rows, d);
  if (target_col >= 0) {
    out.y = Eigen::Map<const Vector<T>>(targets.data(), rows);
    out.target_name = names[static_cast<std::size_t>(target_col)];
  }
  for (Index j : x_cols) out.columns.push_back(names[static_cast<std::size_t>(j)]);
  return out;
}

/// Reads a numeric CSV file; see the file comment for the accepted syntax. Throws CsvError if the
/// file cannot be opened or is malformed.
template <class T>
CsvData<T> read_csv(const std::string& path, const CsvOptions& options = {}) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CsvError("read_csv: cannot open '" + path + "'");
  return read_csv<T>(in, options, path);
}

namespace detail_csv {

inline std::string quote_if_needed(const std::string& s, char delim) {
  const bool needs = s.find_first_of(std::string{delim, '"', '\n', '\r'}) != std::string::npos ||
                     (!s.empty() && (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t'));
  if (!needs) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}

/// Shortest text that reads back to exactly `v` (std::to_chars round-trip guarantee).
template <class T>
void append_number(std::string& out, T v) {
  if (std::isnan(v)) {
    out += "nan";
    return;
  }
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 64 bytes hold any float or double
  out.append(buf, end);
}

}  // namespace detail_csv

/// Writes `X` (n x d) and, if `y` has n values, `y` as a last column, to a stream: an optional
/// header row (`columns` for X, then `target_name`), then one row per sample. Numbers are written
/// in the shortest form that reads back to the same value, so write_csv / read_csv round-trips
/// exactly. NaN is written as `nan` (read it back with `allow_nan`); infinities are rejected.
template <class DX, class DY>
void write_csv(std::ostream& out, const Eigen::DenseBase<DX>& X, const Eigen::DenseBase<DY>& y,
               const std::vector<std::string>& columns = {}, const std::string& target_name = "", char delimiter = ',') {
  const bool with_y = y.size() > 0;
  if (with_y && (y.cols() != 1 || y.rows() != X.rows()))
    throw std::invalid_argument("write_csv: X has shape " + std::to_string(X.rows()) + "x" + std::to_string(X.cols()) +
                                " but y has shape " + std::to_string(y.rows()) + "x" + std::to_string(y.cols()) +
                                ", expected one target per row");
  if (!columns.empty() && static_cast<Index>(columns.size()) != X.cols())
    throw std::invalid_argument("write_csv: got " + std::to_string(columns.size()) + " column names for X with " +
                                std::to_string(X.cols()) + " columns");
  if (X.derived().array().isInf().any() || (with_y && y.derived().array().isInf().any()))
    throw std::invalid_argument("write_csv: X or y contains Inf, which read_csv does not accept");
  std::string line;
  if (!columns.empty()) {
    for (std::size_t j = 0; j < columns.size(); ++j) {
      if (j > 0) line += delimiter;
      line += detail_csv::quote_if_needed(columns[j], delimiter);
    }
    if (with_y) line += delimiter + detail_csv::quote_if_needed(target_name.empty() ? "target" : target_name, delimiter);
    out << line << '\n';
  }
  for (Index i = 0; i < X.rows(); ++i) {
    line.clear();
    for (Index j = 0; j < X.cols(); ++j) {
      if (j > 0) line += delimiter;
      detail_csv::append_number(line, X(i, j));
    }
    if (with_y) {
      if (X.cols() > 0) line += delimiter;
      detail_csv::append_number(line, y(i, 0));
    }
    out << line << '\n';
  }
}

/// Writes `X` and a target column `y` to the file `path` (see the stream overload).
template <class DX, class DY>
void write_csv(const std::string& path, const Eigen::DenseBase<DX>& X, const Eigen::DenseBase<DY>& y,
               const std::vector<std::string>& columns = {}, const std::string& target_name = "", char delimiter = ',') {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw CsvError("write_csv: cannot open '" + path + "' for writing");
  write_csv(out, X, y, columns, target_name, delimiter);
  if (!out.flush()) throw CsvError("write_csv: error writing '" + path + "'");
}

/// Writes `X` alone (no target column) to the file `path`, with `columns` as header if given.
template <class DX>
void write_csv(const std::string& path, const Eigen::DenseBase<DX>& X, const std::vector<std::string>& columns = {},
               char delimiter = ',') {
  write_csv(path, X, Vector<typename DX::Scalar>(), columns, "", delimiter);
}

}  // namespace eigenml::io
