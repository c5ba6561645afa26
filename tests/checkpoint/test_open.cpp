// Locating and opening checkpoints: single file, directory, sharded index; the errors for a
// missing shard and for a tensor the index promises but its shard lacks name both.
#include <gtest/gtest.h>

#include <functional>

#include "checkpoint/fixtures.h"
#include "core/base/error.h"
#include "core/checkpoint/checkpoint.h"

using namespace linscope;
using namespace linscope::test;
using checkpoint::Checkpoint;

#define EXPECT_HAS(msg, what) EXPECT_NE((msg).find(what), std::string::npos) << (msg)

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected linscope::Error";
  return "";
}

// Three tensors over two shards, and the index naming them.
void write_sharded(const TempDir& d) {
  io::write_safetensors(d.file("model-00001-of-00002.safetensors"),
                        {{"a", Tensor({2}, std::vector<float>{1, 2})}});
  io::write_safetensors(
      d.file("model-00002-of-00002.safetensors"),
      {{"b", Tensor({1, 2}, std::vector<float>{3, 4})}, {"c", Tensor({1}, std::vector<float>{5})}});
  write_json(d.file("model.safetensors.index.json"),
             {{"metadata", {{"total_size", 20}}},
              {"weight_map",
               {{"a", "model-00001-of-00002.safetensors"},
                {"b", "model-00002-of-00002.safetensors"},
                {"c", "model-00002-of-00002.safetensors"}}}});
}

}  // namespace

TEST(CheckpointOpen, SingleFileAndDirectoryWithConfig) {
  TempDir d("ck_single");
  io::write_safetensors(d.file("model.safetensors"), {{"x", Tensor({3}, 2.0f)}});
  write_json(d.file("config.json"), {{"model_type", "whatever"}});
  for (const std::string& p : {d.path().string(), d.file("model.safetensors")}) {
    const Checkpoint c = Checkpoint::open(p);
    EXPECT_FALSE(c.sharded());
    EXPECT_EQ(c.tensor_names(), std::vector<std::string>{"x"});
    EXPECT_EQ(c.config().at("model_type"), "whatever");
    EXPECT_EQ(c.shard_of("x"), "model.safetensors");
    EXPECT_EQ(c.read_f32("x").values(), (std::vector<float>{2, 2, 2}));
  }
}

TEST(CheckpointOpen, ShardedIndexReadsEveryTensorFromItsShard) {
  TempDir d("ck_sharded");
  write_sharded(d);
  const Checkpoint c = Checkpoint::open(d.path().string());
  EXPECT_TRUE(c.sharded());
  EXPECT_EQ(c.tensor_names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c.shard_files().size(), 2u);
  EXPECT_EQ(c.shard_of("c"), "model-00002-of-00002.safetensors");
  EXPECT_EQ(c.read_f32("a").values(), (std::vector<float>{1, 2}));
  EXPECT_EQ(c.read_f32("b").shape(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(c.read_f32("b").values(), (std::vector<float>{3, 4}));
  EXPECT_EQ(c.read_f32("c").values(), (std::vector<float>{5}));
  const auto s = c.summary();
  EXPECT_EQ(s.parameters, 5);
  EXPECT_EQ(s.bytes, 20u);
  EXPECT_EQ(s.architecture, "unknown");
  // The index file itself is accepted as the path too.
  EXPECT_EQ(Checkpoint::open(d.file("model.safetensors.index.json")).read_f32("a")[1], 2.0f);
}

TEST(CheckpointOpen, MissingShardNamesShardAndIndex) {
  TempDir d("ck_noshard");
  write_sharded(d);
  std::filesystem::remove(d.file("model-00002-of-00002.safetensors"));
  const Checkpoint c = Checkpoint::open(d.path().string());  // lazy: opening still works
  EXPECT_EQ(c.read_f32("a")[0], 1.0f);                       // and so does the other shard
  const std::string m = error_of([&] { c.read_f32("b"); });
  EXPECT_HAS(m, "model-00002-of-00002.safetensors");
  EXPECT_HAS(m, "model.safetensors.index.json");
  EXPECT_HAS(m, "missing");
  EXPECT_HAS(error_of([&] { c.summary(); }), "model-00002-of-00002.safetensors");
}

// Found by fuzz_checkpoint_index: a shard name longer than NAME_MAX made fs::exists throw
// std::filesystem::filesystem_error out of summary(); it must be a linscope::Error that names it.
TEST(CheckpointOpen, ShardNameTheFileSystemRefusesIsAnError) {
  TempDir d("ck_longname");
  const std::string name = std::string(300, 's') + ".safetensors";
  io::write_safetensors(d.file("model-00001-of-00001.safetensors"),
                        {{"a", Tensor({2}, std::vector<float>{1, 2})}});
  write_json(d.file("model.safetensors.index.json"), {{"weight_map", {{"a", name}}}});
  const Checkpoint c = Checkpoint::open(d.path().string());
  const std::string m = error_of([&] { c.summary(); });
  EXPECT_HAS(m, name);
  EXPECT_HAS(m, "missing");
  EXPECT_HAS(error_of([&] { c.read_f32("a"); }), "model.safetensors.index.json");
}

TEST(CheckpointOpen, TensorMissingFromItsShardNamesBoth) {
  TempDir d("ck_notensor");
  write_sharded(d);
  // Rewrite shard 2 without "c", which the index still assigns to it.
  io::write_safetensors(d.file("model-00002-of-00002.safetensors"),
                        {{"b", Tensor({1, 2}, std::vector<float>{3, 4})}});
  const Checkpoint c = Checkpoint::open(d.path().string());
  const std::string m = error_of([&] { c.info("b"); });
  EXPECT_HAS(m, "tensor 'c'");
  EXPECT_HAS(m, "model-00002-of-00002.safetensors");
}

TEST(CheckpointOpen, BadPathsAndIndexes) {
  TempDir d("ck_bad");
  EXPECT_HAS(error_of([&] { Checkpoint::open(d.path().string()); }), "neither model.safetensors");
  EXPECT_HAS(error_of([&] { Checkpoint::open(d.file("nope")); }), "no such file");
  write_json(d.file("model.safetensors.index.json"), {{"metadata", {}}});
  EXPECT_HAS(error_of([&] { Checkpoint::open(d.path().string()); }), "weight_map");
  write_json(d.file("model.safetensors.index.json"), {{"weight_map", {{"a", "../evil"}}}});
  EXPECT_HAS(error_of([&] { Checkpoint::open(d.path().string()); }), "tensor 'a'");
}
