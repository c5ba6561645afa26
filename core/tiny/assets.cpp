// Locating assets/ and listing the bundled models.
#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "core/base/error.h"
#include "core/tiny/tiny_model.h"

namespace linscope::tiny {
namespace fs = std::filesystem;

namespace {

bool holds_models(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (fs::exists(e.path() / "config.json", ec)) return true;
  return false;
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);  // Linux
  return ec ? fs::path() : exe.parent_path();
}

}  // namespace

std::string find_assets_dir() {
  std::vector<fs::path> tried;
  if (const char* env = std::getenv("LINSCOPE_ASSETS")) {
    // An explicit setting must be right: no silent fallback to another copy.
    if (holds_models(env)) return fs::path(env).string();
    throw Error(std::string("LINSCOPE_ASSETS=") + env +
                " holds no model directory (no */config.json)");
  }
  const fs::path exe = executable_dir();
  if (!exe.empty())
    for (const fs::path& p : {exe / "assets", exe / ".." / "assets", exe / ".." / ".." / "assets"})
      tried.push_back(p);
  tried.push_back(fs::path("assets"));
  tried.push_back(fs::path("..") / "assets");
#ifdef LINSCOPE_SOURCE_ASSETS
  tried.push_back(fs::path(LINSCOPE_SOURCE_ASSETS));
#endif
  for (const fs::path& p : tried)
    if (holds_models(p)) return fs::weakly_canonical(p).string();
  std::string list;
  for (const fs::path& p : tried) list += (list.empty() ? "" : ", ") + p.string();
  throw Error("no assets directory with tiny models found; set LINSCOPE_ASSETS (tried " + list +
              ")");
}

std::vector<std::string> bundled_models(const std::string& assets_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(assets_dir, ec))
    if (fs::exists(e.path() / "config.json", ec)) names.push_back(e.path().filename().string());
  if (ec) throw Error(assets_dir + ": cannot list (" + ec.message() + ")");
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace linscope::tiny
