#include "core/checkpoint/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "core/base/error.h"
#include "core/checkpoint/summarize.h"

namespace linscope::checkpoint {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSingle = "model.safetensors";
constexpr const char* kIndex = "model.safetensors.index.json";

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": not valid JSON: " + e.what());
  }
}

}  // namespace

struct Checkpoint::Impl {
  std::string path, dir, index_path, config_path;
  nlohmann::json config = nlohmann::json::object();
  std::vector<std::string> names;            // sorted
  std::map<std::string, std::string> shard;  // tensor -> shard file name
  // Opened shards, by file name; filled on first use (mutable cache behind a const API).
  mutable std::mutex mu;
  mutable std::map<std::string, std::unique_ptr<io::SafetensorsFile>> open_shards;

  const io::SafetensorsFile& file(const std::string& shard_name) const;
  const std::string& shard_name(const std::string& tensor) const {
    const auto it = shard.find(tensor);
    if (it == shard.end())
      throw Error((index_path.empty() ? path : index_path) + ": no tensor '" + tensor + "'");
    return it->second;
  }
};

const io::SafetensorsFile& Checkpoint::Impl::file(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu);
  auto it = open_shards.find(name);
  if (it != open_shards.end()) return *it->second;
  const std::string full = (fs::path(dir) / name).string();
  // The error_code overload: a name the file system refuses (longer than NAME_MAX, say) is a
  // bad index, reported as linscope::Error like any missing shard, not a filesystem_error.
  std::error_code ec;
  if (!index_path.empty() && !fs::exists(full, ec))
    throw Error(index_path + ": shard '" + name + "' listed in the weight_map is missing (" + full +
                (ec ? ": " + ec.message() : std::string()) + ")");
  auto f = std::make_unique<io::SafetensorsFile>(io::SafetensorsFile::open(full));
  // Every tensor the index assigns to this shard must be in it.
  for (const auto& [tensor, s] : shard)
    if (s == name && !f->has(tensor))
      throw Error(full + ": tensor '" + tensor + "' is listed for this shard in " + index_path +
                  " but the shard does not hold it");
  return *open_shards.emplace(name, std::move(f)).first->second;
}

Checkpoint::Checkpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Checkpoint::Checkpoint(Checkpoint&&) noexcept = default;
Checkpoint& Checkpoint::operator=(Checkpoint&&) noexcept = default;
Checkpoint::~Checkpoint() = default;

Checkpoint Checkpoint::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  std::error_code ec;
  std::string weights;  // the single file, or "" when sharded
  if (fs::is_directory(path, ec)) {
    impl->dir = path;
    const fs::path d(path);
    if (fs::exists(d / kIndex, ec))
      impl->index_path = (d / kIndex).string();
    else if (fs::exists(d / kSingle, ec))
      weights = (d / kSingle).string();
    else
      throw Error(path + ": directory holds neither " + std::string(kSingle) + " nor " + kIndex);
  } else if (fs::exists(path, ec)) {
    impl->dir = fs::path(path).parent_path().string();
    if (impl->dir.empty()) impl->dir = ".";
    const std::string fname = fs::path(path).filename().string();
    if (fname.size() > 11 && fname.substr(fname.size() - 11) == ".index.json")
      impl->index_path = path;
    else
      weights = path;
  } else {
    throw Error(path + ": no such file or directory");
  }

  const fs::path cfg = fs::path(impl->dir) / "config.json";
  if (fs::exists(cfg, ec)) {
    impl->config_path = cfg.string();
    impl->config = read_json_file(impl->config_path);
    if (!impl->config.is_object()) throw Error(impl->config_path + ": not a JSON object");
  }

  if (!weights.empty()) {
    const std::string name = fs::path(weights).filename().string();
    auto f = std::make_unique<io::SafetensorsFile>(io::SafetensorsFile::open(weights));
    for (const auto& t : f->tensors()) {
      impl->names.push_back(t.name);
      impl->shard[t.name] = name;
    }
    impl->open_shards.emplace(name, std::move(f));
  } else {
    const nlohmann::json index = read_json_file(impl->index_path);
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
      throw Error(impl->index_path + ": missing object 'weight_map' {tensor: shard file}");
    for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
      if (!it->is_string())
        throw Error(impl->index_path + ": weight_map entry for tensor '" + it.key() +
                    "' is not a file name");
      const std::string s = it->get<std::string>();
      if (s.empty() || fs::path(s).is_absolute() || s.find("..") != std::string::npos)
        throw Error(impl->index_path + ": tensor '" + it.key() + "' names shard '" + s +
                    "', which is not a file inside the checkpoint directory");
      impl->names.push_back(it.key());
      impl->shard[it.key()] = s;
    }
  }
  std::sort(impl->names.begin(), impl->names.end());
  return Checkpoint(std::move(impl));
}

const std::string& Checkpoint::path() const {
  return impl_->path;
}
const std::string& Checkpoint::directory() const {
  return impl_->dir;
}
bool Checkpoint::sharded() const {
  return !impl_->index_path.empty();
}
const nlohmann::json& Checkpoint::config() const {
  return impl_->config;
}
const std::string& Checkpoint::config_path() const {
  return impl_->config_path;
}
const std::vector<std::string>& Checkpoint::tensor_names() const {
  return impl_->names;
}
bool Checkpoint::has(const std::string& name) const {
  return impl_->shard.count(name) != 0;
}
const std::string& Checkpoint::shard_of(const std::string& name) const {
  return impl_->shard_name(name);
}

std::vector<std::string> Checkpoint::shard_files() const {
  std::vector<std::string> out;
  for (const auto& [t, s] : impl_->shard) out.push_back(s);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

const io::TensorInfo& Checkpoint::info(const std::string& name) const {
  return impl_->file(impl_->shard_name(name)).info(name);
}

Tensor Checkpoint::read_f32(const std::string& name) const {
  return impl_->file(impl_->shard_name(name)).read_f32(name);
}

Summary Checkpoint::summary() const {
  return summarize(*this);
}

}  // namespace linscope::checkpoint
