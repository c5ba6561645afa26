// One exception type for every bad input the core can meet: a wrong shape, a malformed file,
// a NaN. Its message names what is wrong so the CLI and the GUI can show it as is.
#pragma once
#include <stdexcept>
#include <string>

namespace linscope {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace linscope
