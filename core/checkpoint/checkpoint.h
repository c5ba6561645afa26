// A trained checkpoint on disk: one .safetensors file, or a Hugging Face style directory with
// model.safetensors or a sharded model.safetensors.index.json ({"metadata": .., "weight_map":
// {tensor: shard file}}) next to config.json. Shards are memory-mapped only when a tensor of
// theirs is first needed.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/base/tensor.h"
#include "core/checkpoint/summary.h"
#include "core/io/safetensors.h"

namespace linscope::checkpoint {

class Checkpoint {
 public:
  // path: a .safetensors file (config.json is looked for beside it), a model.safetensors.
  // index.json, or a directory holding either. Throws linscope::Error naming the file.
  static Checkpoint open(const std::string& path);
  Checkpoint(Checkpoint&&) noexcept;
  Checkpoint& operator=(Checkpoint&&) noexcept;
  ~Checkpoint();

  const std::string& path() const;       // as given
  const std::string& directory() const;  // where shards and config.json live
  bool sharded() const;
  const nlohmann::json& config() const;    // an empty object when there is no config.json
  const std::string& config_path() const;  // "" when there is no config.json
  const std::vector<std::string>& tensor_names() const;  // sorted
  std::vector<std::string> shard_files() const;          // file names, sorted
  bool has(const std::string& name) const;
  // The shard file name holding a tensor. Throws Error naming the tensor when absent.
  const std::string& shard_of(const std::string& name) const;
  // Header entry of a tensor; opens its shard. Throws Error naming the tensor and the shard
  // when the shard is missing or does not hold the tensor the index promises.
  const io::TensorInfo& info(const std::string& name) const;
  Tensor read_f32(const std::string& name) const;

  // Recognizes the architecture, checks tensor shapes against config.json (Error naming the
  // file and tensor on a mismatch) and gathers decays and gate statistics.
  Summary summary() const;

 private:
  struct Impl;
  explicit Checkpoint(std::unique_ptr<Impl>);
  std::unique_ptr<Impl> impl_;
};

}  // namespace linscope::checkpoint
