#include "app/cli/args.h"

#include <cstdlib>
#include <iostream>
#include <sstream>

namespace linscope::cli {

Args& Args::option(const std::string& name, const std::string& meta, const std::string& help,
                   const std::string& fallback) {
  options_.push_back({name, meta, help, fallback});
  return *this;
}

Args& Args::flag(const std::string& name, const std::string& help) {
  options_.push_back({name, "", help, ""});
  return *this;
}

const Args::Option* Args::find(const std::string& name) const {
  for (const auto& o : options_)
    if (o.name == name) return &o;
  return nullptr;
}

bool Args::parse(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--help" || word == "-h") {
      std::cout << help();
      return false;
    }
    if (word.rfind("--", 0) != 0) throw UsageError{"unexpected argument '" + word + "'"};
    std::string name = word.substr(2), value;
    const bool inline_value = name.find('=') != std::string::npos;
    if (inline_value) {
      value = name.substr(name.find('=') + 1);
      name = name.substr(0, name.find('='));
    }
    const Option* o = find(name);
    if (!o)
      throw UsageError{"unknown option --" + name + " (see linscope-cli " + command_ + " --help)"};
    if (o->meta.empty()) {
      if (inline_value) throw UsageError{"option --" + name + " takes no value"};
      value = "1";
    } else if (!inline_value) {
      if (i + 1 >= argc) throw UsageError{"option --" + name + " needs a value (" + o->meta + ")"};
      value = argv[++i];
    }
    values_[name] = value;
  }
  return true;
}

std::string Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end()) return it->second;
  const Option* o = find(name);
  return o ? o->fallback : "";
}

bool Args::flag_set(const std::string& name) const {
  return values_.count(name) != 0;
}

long long Args::get_int(const std::string& name, long long lo, long long hi) const {
  const std::string s = get(name);
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0')
    throw UsageError{"--" + name + " expects an integer, got '" + s + "'"};
  if (v < lo || v > hi)
    throw UsageError{"--" + name + " must be in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "], got " + s};
  return v;
}

double Args::get_double(const std::string& name) const {
  const std::string s = get(name);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0')
    throw UsageError{"--" + name + " expects a number, got '" + s + "'"};
  return v;
}

std::string Args::help() const {
  std::ostringstream out;
  out << "usage: linscope-cli " << command_ << " [options]\n\n" << summary_ << "\n\noptions:\n";
  for (const auto& o : options_) {
    std::string head = "  --" + o.name + (o.meta.empty() ? "" : " " + o.meta);
    if (head.size() < 28)
      head += std::string(28 - head.size(), ' ');
    else
      head += "\n" + std::string(28, ' ');
    out << head << o.help;
    if (!o.fallback.empty()) out << " (default: " << o.fallback << ")";
    out << "\n";
  }
  out << "  --help                    this text\n";
  return out.str();
}

}  // namespace linscope::cli
