// Writer of float32 safetensors files: names sorted (std::map order), data packed in that
// order, header padded with spaces to a multiple of 8 so the data section is 8-byte aligned
// (as Hugging Face's writer does). Written to <path>.tmp and renamed, so a crash or a full
// disk never leaves a truncated file under the real name.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/io/safetensors.h"

namespace linscope::io {
namespace {

class TmpFile {
 public:
  explicit TmpFile(const std::string& path) : path_(path) {
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_) throw Error(path + ": cannot create (" + std::strerror(errno) + ")");
  }
  ~TmpFile() {
    if (f_) std::fclose(f_);
    if (!committed_) std::remove(path_.c_str());
  }
  void write(const void* p, size_t n, const std::string& target) {
    if (n && std::fwrite(p, 1, n, f_) != n)
      throw Error(target + ": write failed (" + std::strerror(errno) + ")");
  }
  void commit(const std::string& target) {
    const int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0) throw Error(target + ": write failed on close (" + std::strerror(errno) + ")");
    if (std::rename(path_.c_str(), target.c_str()) != 0)
      throw Error(target + ": cannot rename " + path_ + " into place (" + std::strerror(errno) +
                  ")");
    committed_ = true;
  }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  bool committed_ = false;
};

}  // namespace

void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__")
      throw Error(path + ": invalid tensor name '" + name + "'");
    if (numel_of(t.shape()) != t.numel())
      throw Error(path + ": tensor '" + name + "' has shape " + t.shape_string() + " but " +
                  std::to_string(t.numel()) + " values");
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * sizeof(float);
    header[name] = {
        {"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t n = text.size();

  TmpFile out(path + ".tmp");
  out.write(&n, sizeof n, path);  // little-endian host (asserted in safetensors.cpp)
  out.write(text.data(), text.size(), path);
  for (const auto& [name, t] : tensors)
    out.write(t.data(), static_cast<size_t>(t.numel()) * sizeof(float), path);
  out.commit(path);
}

}  // namespace linscope::io
