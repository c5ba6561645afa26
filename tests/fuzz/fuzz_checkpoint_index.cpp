// libFuzzer target: arbitrary bytes as the JSON files of a Hugging Face style checkpoint
// directory (model.safetensors.index.json and/or config.json) beside small, valid shards.
// Checkpoint::open(dir) + summary() must succeed or throw linscope::Error; anything else (a
// crash, a sanitizer report, nlohmann::json::exception or std::out_of_range escaping, a hang)
// is a bug.
//
// Input layout: byte 0 picks the mode, the rest is the payload.
//   mode 0: payload = model.safetensors.index.json of a sharded directory, no config.json
//   mode 1: payload = config.json beside a single model.safetensors
//   mode 2: payload = index, a 0x00 byte, then config.json, in a sharded directory
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <string>

#include "core/base/error.h"
#include "core/checkpoint/checkpoint.h"
#include "core/io/safetensors.h"
#include "fuzz/fuzz_util.h"

namespace {

namespace fs = std::filesystem;
using linscope::Tensor;

Tensor ramp(std::vector<int64_t> shape) {
  Tensor t(std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = 0.01f * float(i) - 0.2f;
  return t;
}

// One layer of a tiny fla-style model holding the projections of RetNet, GLA and DeltaNet at
// once (hidden 4, 2 heads, key = value = 4), so a config naming any of them finds its tensors.
std::map<std::string, Tensor> layer_weights() {
  const std::string p = "model.layers.0.";
  return {{p + "attn.q_proj.weight", ramp({4, 4})},    {p + "attn.k_proj.weight", ramp({4, 4})},
          {p + "attn.v_proj.weight", ramp({4, 4})},    {p + "attn.o_proj.weight", ramp({4, 4})},
          {p + "attn.g_proj.weight", ramp({4, 4})},    {p + "attn.b_proj.weight", ramp({2, 4})},
          {p + "attn.gk_proj.0.weight", ramp({4, 4})}, {p + "attn.gk_proj.1.weight", ramp({4, 4})},
          {p + "attn.gk_proj.1.bias", ramp({4})},      {p + "attn_norm.weight", ramp({4})}};
}
std::map<std::string, Tensor> outer_weights() {
  return {{"model.embeddings.weight", ramp({10, 4})},
          {"model.norm.weight", ramp({4})},
          {"lm_head.weight", ramp({10, 4})}};
}

struct Dirs {
  fs::path sharded, single;
};

// The shards are written once per process; only the JSON files change from input to input.
const Dirs& dirs() {
  static const Dirs d = [] {
    Dirs out{linscope::fuzz::scratch_dir() / "sharded", linscope::fuzz::scratch_dir() / "single"};
    fs::create_directories(out.sharded);
    fs::create_directories(out.single);
    linscope::io::write_safetensors((out.sharded / "model-00001-of-00002.safetensors").string(),
                                    layer_weights());
    linscope::io::write_safetensors((out.sharded / "model-00002-of-00002.safetensors").string(),
                                    outer_weights());
    auto all = layer_weights();
    all.merge(outer_weights());
    linscope::io::write_safetensors((out.single / "model.safetensors").string(), all);
    return out;
  }();
  return d;
}

void put(const fs::path& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Dirs& d = dirs();
  const int mode = data[0] % 3;
  const uint8_t* payload = data + 1;
  const size_t n = size - 1;
  std::error_code ec;
  fs::remove(d.sharded / "model.safetensors.index.json", ec);
  fs::remove(d.sharded / "config.json", ec);
  fs::remove(d.single / "config.json", ec);
  fs::path dir;
  if (mode == 0) {
    dir = d.sharded;
    put(dir / "model.safetensors.index.json", payload, n);
  } else if (mode == 1) {
    dir = d.single;
    put(dir / "config.json", payload, n);
  } else {
    dir = d.sharded;
    const uint8_t* zero = static_cast<const uint8_t*>(std::memchr(payload, 0, n));
    const size_t cut = zero ? size_t(zero - payload) : n;
    put(dir / "model.safetensors.index.json", payload, cut);
    put(dir / "config.json", payload + std::min(cut + 1, n), n - std::min(cut + 1, n));
  }
  try {
    const auto ckpt = linscope::checkpoint::Checkpoint::open(dir.string());
    const auto summary = ckpt.summary();
    // What `inspect` prints: the JSON (dump() throws on invalid UTF-8 in any string) and text.
    (void)linscope::checkpoint::to_json(summary).dump();
    (void)linscope::checkpoint::to_text(summary);
    for (const auto& name : ckpt.tensor_names()) (void)ckpt.info(name);
  } catch (const linscope::Error& e) {
    linscope::fuzz::expected_error(e.what());
    // The defined outcome for a malformed checkpoint.
  } catch (const std::exception& e) {
    linscope::fuzz::unexpected(e.what());
  }
  return 0;
}
