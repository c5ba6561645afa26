// A small command-line parser for linscope-cli: `--name value`, `--name=value` and flags.
// Every option must be declared; anything else is a usage error naming the word.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace linscope::cli {

// Thrown for bad usage; main() prints it on one line and exits with code 2.
struct UsageError {
  std::string message;
};

class Args {
 public:
  struct Option {
    std::string name;  // without the dashes
    std::string meta;  // e.g. "FILE"; empty for a flag
    std::string help;
    std::string fallback;  // shown in --help; the value when absent
  };

  Args(std::string command, std::string summary)
      : command_(std::move(command)), summary_(std::move(summary)) {}
  Args& option(const std::string& name, const std::string& meta, const std::string& help,
               const std::string& fallback = "");
  Args& flag(const std::string& name, const std::string& help);

  // Returns false when --help was given (help already printed).
  bool parse(int argc, char** argv);

  std::string get(const std::string& name) const;
  bool given(const std::string& name) const { return values_.count(name) != 0; }
  bool flag_set(const std::string& name) const;
  long long get_int(const std::string& name, long long lo, long long hi) const;
  double get_double(const std::string& name) const;
  std::string help() const;

 private:
  const Option* find(const std::string& name) const;
  std::string command_, summary_;
  std::vector<Option> options_;
  std::map<std::string, std::string> values_;
};

}  // namespace linscope::cli
