// Reading files whose bytes the test lays down itself (every dtype), and the library writer's
// output read back: same names, shapes, values and metadata, 8-byte aligned data section.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/base/error.h"
#include "core/io/safetensors.h"
#include "io/raw_file.h"

using namespace linscope;
using namespace linscope::test;

namespace {

// One tensor of the given dtype, shape [n], data = bytes.
std::string header_for(const std::string& dtype, size_t n, size_t bytes) {
  return "{\"t\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + std::to_string(n) +
         "],\"data_offsets\":[0," + std::to_string(bytes) + "]}}";
}

std::vector<float> read_one(const TempDir& d, const std::string& dtype,
                            const std::vector<uint8_t>& data, size_t n) {
  const std::string p = d.file(dtype + ".safetensors");
  write_bytes(p, raw_file(header_for(dtype, n, data.size()), data));
  const auto f = io::SafetensorsFile::open(p);
  EXPECT_EQ(io::to_string(f.info("t").dtype), dtype);
  EXPECT_EQ(f.info("t").shape, std::vector<int64_t>{static_cast<int64_t>(n)});
  return f.read_f32("t").values();
}

}  // namespace

TEST(SafetensorsRead, EveryDtypeFromHandMadeBytes) {
  TempDir d("io_dtypes");
  EXPECT_EQ(read_one(d, "F64", le_bytes<double>({1.5, -2.25, 1e300}), 3),
            (std::vector<float>{1.5f, -2.25f, INFINITY}));  // 1e300 overflows float: inf
  EXPECT_EQ(read_one(d, "F32", le_bytes<float>({0.1f, -7.0f}), 2),
            (std::vector<float>{0.1f, -7.0f}));
  // 0x3C00 = 1, 0xC500 = -5 (exp 17, mantissa 0x100 = 1.25 * 4), 0x0001 = 2^-24
  EXPECT_EQ(read_one(d, "F16", le_bytes<uint16_t>({0x3C00, 0xC500, 0x0001}), 3),
            (std::vector<float>{1.0f, -5.0f, std::ldexp(1.0f, -24)}));
  // 0x4049 is the upper half of 3.140625f (0x40490000)
  EXPECT_EQ(read_one(d, "BF16", le_bytes<uint16_t>({0x4049, 0xBF80}), 2),
            (std::vector<float>{3.140625f, -1.0f}));
  EXPECT_EQ(read_one(d, "I64", le_bytes<int64_t>({-3, 1LL << 40}), 2),
            (std::vector<float>{-3.0f, std::ldexp(1.0f, 40)}));
  EXPECT_EQ(read_one(d, "I32", le_bytes<int32_t>({-2147483647 - 1, 7}), 2),
            (std::vector<float>{-2147483648.0f, 7.0f}));
  EXPECT_EQ(read_one(d, "I16", le_bytes<int16_t>({-32768, 300}), 2),
            (std::vector<float>{-32768.0f, 300.0f}));
  EXPECT_EQ(read_one(d, "I8", le_bytes<int8_t>({-128, 127, 0}), 3),
            (std::vector<float>{-128.0f, 127.0f, 0.0f}));
  EXPECT_EQ(read_one(d, "U8", le_bytes<uint8_t>({255, 1}), 2), (std::vector<float>{255.0f, 1.0f}));
  EXPECT_EQ(read_one(d, "BOOL", le_bytes<uint8_t>({0, 1, 1}), 3),
            (std::vector<float>{0.0f, 1.0f, 1.0f}));
}

TEST(SafetensorsRead, SpecialValuesSurviveTheFile) {
  TempDir d("io_special");
  const auto h = read_one(d, "F16", le_bytes<uint16_t>({0x7C00, 0xFC00, 0x7E00, 0x8000}), 4);
  EXPECT_EQ(h[0], INFINITY);
  EXPECT_EQ(h[1], -INFINITY);
  EXPECT_TRUE(std::isnan(h[2]));
  EXPECT_TRUE(std::signbit(h[3]));
  const auto b = read_one(d, "BF16", le_bytes<uint16_t>({0x7F80, 0x7FC0, 0x8000, 0x0001}), 4);
  EXPECT_EQ(b[0], INFINITY);
  EXPECT_TRUE(std::isnan(b[1]));
  EXPECT_TRUE(std::signbit(b[2]) && b[2] == 0.0f);
  EXPECT_EQ(b[3], std::ldexp(1.0f, -133));
}

TEST(SafetensorsRead, MultiDimAndMetadataAndFileOrder) {
  TempDir d("io_multi");
  // "b" comes first in the bytes although the JSON lists "a" first; "e" is empty.
  const std::string header =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[4,20]},"
      "\"b\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]},"
      "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[20,20]}}";
  std::vector<uint8_t> data = le_bytes<int32_t>({-9});
  const auto fa = le_bytes<float>({1, 2, 3, 4});
  data.insert(data.end(), fa.begin(), fa.end());
  const std::string p = d.file("m.safetensors");
  write_bytes(p, raw_file(header, data));
  const auto f = io::SafetensorsFile::open(p);
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.tensors()[0].name, "b");  // file (byte) order
  EXPECT_EQ(f.tensors()[1].name, "a");
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.read_f32("b").values(), std::vector<float>{-9.0f});
  EXPECT_TRUE(f.read_f32("b").shape().empty());  // a scalar
  const Tensor a = f.read_f32("a");
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(a.values(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(f.read_f32("e").numel(), 0);
  EXPECT_EQ(f.info("a").bytes(), 16u);
  EXPECT_EQ(f.raw("a")[4], 0x00);  // 2.0f = 0x40000000, little-endian: 00 00 00 40
  EXPECT_EQ(f.raw("a")[7], 0x40);
}

TEST(SafetensorsWrite, RoundTripSortedAlignedWithMetadata) {
  TempDir d("io_write");
  const std::string p = d.file("w.safetensors");
  std::map<std::string, Tensor> in;
  in["z"] = Tensor({3}, std::vector<float>{1.0f, -0.0f, 3e-40f});  // a float32 subnormal
  in["a"] = Tensor({2, 1, 2}, std::vector<float>{0.5f, 1.5f, 2.5f, INFINITY});
  io::write_safetensors(p, in, {{"model", "x"}});
  EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));

  std::ifstream s(p, std::ios::binary);
  uint8_t len[8];
  s.read(reinterpret_cast<char*>(len), 8);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(len[i]) << (8 * i);
  EXPECT_EQ((8 + n) % 8, 0u) << "data section must start 8-byte aligned";

  const auto f = io::SafetensorsFile::open(p);
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.tensors()[0].name, "a");  // sorted by name, packed in that order
  EXPECT_EQ(f.tensors()[0].begin, 0u);
  EXPECT_EQ(f.metadata().at("model"), "x");
  const Inputs back = io::read_inputs(p);
  EXPECT_EQ(back.get("a").shape(), in["a"].shape());
  EXPECT_EQ(back.get("a").values(), in["a"].values());
  EXPECT_EQ(back.get("z").values()[2], 3e-40f);
  EXPECT_TRUE(std::signbit(back.get("z").values()[1]));
}

TEST(SafetensorsWrite, FailureLeavesNoFileAndNamesThePath) {
  TempDir d("io_wfail");
  const std::string p = d.file("no_such_dir/w.safetensors");
  try {
    io::write_safetensors(p, {{"a", Tensor({1}, 1.0f)}});
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(p));
}
