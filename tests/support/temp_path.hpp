#pragma once
// A file name in the system temp folder that no other test process uses at the same time: ctest
// runs test cases as parallel processes (the float and double instances of a template test case
// among them), and fixed names let them truncate each other's files.

#include <chrono>
#include <filesystem>
#include <string>

namespace eigenml::test {

/// `<temp dir>/<steady-clock ticks>_<name>`: `name` stays the tail of the path (and of any message
/// quoting it).
inline std::filesystem::path unique_temp_path(const std::string& name) {
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  return std::filesystem::temp_directory_path() / (std::to_string(stamp) + "_" + name);
}

}  // namespace eigenml::test
