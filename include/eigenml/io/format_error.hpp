#pragma once
/// \file io/format_error.hpp
/// The one exception every model-file reader throws when a file is malformed, truncated or does
/// not match the model asked for.

#include <stdexcept>
#include <string>

namespace eigenml::io {

/// A model file (or an in-memory buffer holding one) is malformed, truncated, uses something
/// eigenml cannot read, or does not match the requested model. The message says what and where.
class FormatError : public std::runtime_error {
 public:
  explicit FormatError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace eigenml::io
