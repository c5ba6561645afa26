// Every malformed file is refused with linscope::Error before a byte of data is read, and the
// message names the file and the problem (and the tensor where there is one).
#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/io/safetensors.h"
#include "io/raw_file.h"

using namespace linscope;
using namespace linscope::test;

namespace {

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  uint64_t b, uint64_t e) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":[" + std::to_string(b) + "," + std::to_string(e) + "]}";
}

class Malformed : public ::testing::Test {
 protected:
  TempDir dir_{"io_bad"};

  // Opens the bytes as a file and returns the error message (fails the test if none).
  std::string error_of(const std::vector<uint8_t>& bytes) {
    const std::string p = path();
    write_bytes(p, bytes);
    try {
      io::SafetensorsFile::open(p);
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(p), std::string::npos) << "message does not name the file: " << m;
      return m;
    }
    ADD_FAILURE() << "no Error for a malformed file";
    return "";
  }
  std::string path() const { return dir_.file("bad.safetensors"); }
};

#define EXPECT_HAS(msg, what) EXPECT_NE((msg).find(what), std::string::npos) << (msg)

}  // namespace

TEST_F(Malformed, TruncatedBelowEightBytes) {
  EXPECT_HAS(error_of({1, 0, 0}), "shorter than the 8-byte header length");
  EXPECT_HAS(error_of({}), "0 bytes");
}

TEST_F(Malformed, HeaderLengthBeyondFile) {
  EXPECT_HAS(error_of(raw_file("{}", {}, 400)), "runs beyond the end of the file");
}

TEST_F(Malformed, AbsurdHeaderLength) {
  EXPECT_HAS(error_of(raw_file("{}", {}, 1ull << 40)), "absurd");
}

TEST_F(Malformed, InvalidJson) {
  EXPECT_HAS(error_of(raw_file("{\"a\": [1, 2", {})), "not valid JSON");
}

TEST_F(Malformed, JsonNotAnObject) {
  EXPECT_HAS(error_of(raw_file("[1, 2, 3]", {})), "not an object");
}

TEST_F(Malformed, UnknownDtype) {
  const auto m = error_of(raw_file("{" + entry("w", "F8_E4M3", "[2]", 0, 2) + "}", {0, 0}));
  EXPECT_HAS(m, "unknown dtype 'F8_E4M3'");
  EXPECT_HAS(m, "tensor 'w'");
}

TEST_F(Malformed, NegativeShape) {
  const auto m = error_of(raw_file("{" + entry("w", "F32", "[-1, 4]", 0, 0) + "}", {}));
  EXPECT_HAS(m, "tensor 'w'");
  EXPECT_HAS(m, "negative");
}

TEST_F(Malformed, OverflowingShape) {
  const auto m =
      error_of(raw_file("{" + entry("w", "F32", "[4294967296, 4294967296, 16]", 0, 0) + "}", {}));
  EXPECT_HAS(m, "overflows");
}

TEST_F(Malformed, EndBeforeBegin) {
  const auto m = error_of(raw_file("{" + entry("w", "U8", "[0]", 4, 2) + "}", {0, 0, 0, 0}));
  EXPECT_HAS(m, "is before begin");
}

TEST_F(Malformed, OffsetsOutOfRange) {
  const auto m = error_of(raw_file("{" + entry("w", "F32", "[4]", 0, 16) + "}", {0, 0, 0, 0}));
  EXPECT_HAS(m, "tensor 'w'");
  EXPECT_HAS(m, "beyond the data section (4 bytes)");
}

TEST_F(Malformed, SizeDisagreesWithShape) {
  const auto m = error_of(raw_file("{" + entry("w", "F32", "[2]", 0, 4) + "}", {0, 0, 0, 0}));
  EXPECT_HAS(m, "span 4 bytes but dtype F32 x shape [2] needs 8");
}

TEST_F(Malformed, OverlappingTensors) {
  const auto m = error_of(
      raw_file("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[1]", 4, 8) + "}",
               std::vector<uint8_t>(8, 0)));
  EXPECT_HAS(m, "overlap");
  EXPECT_HAS(m, "tensor 'a'");
  EXPECT_HAS(m, "tensor 'b'");
}

TEST_F(Malformed, HoleBetweenTensors) {
  const auto m = error_of(
      raw_file("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}",
               std::vector<uint8_t>(12, 0)));
  EXPECT_HAS(m, "hole in the data section: bytes [4, 8)");
}

TEST_F(Malformed, TrailingBytesAfterLastTensor) {
  const auto m =
      error_of(raw_file("{" + entry("a", "F32", "[1]", 0, 4) + "}", std::vector<uint8_t>(6, 0)));
  EXPECT_HAS(m, "hole in the data section: bytes [4, 6)");
}

TEST_F(Malformed, DuplicateName) {
  const auto m = error_of(
      raw_file("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 4, 8) + "}",
               std::vector<uint8_t>(8, 0)));
  EXPECT_HAS(m, "duplicate tensor 'a'");
}

TEST_F(Malformed, MissingFieldsAndBadMetadata) {
  EXPECT_HAS(error_of(raw_file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", {0, 0, 0, 0})),
             "missing string 'dtype'");
  EXPECT_HAS(error_of(raw_file("{\"__metadata__\":{\"k\":3}}", {})), "__metadata__");
}

TEST_F(Malformed, MissingFileAndMissingTensor) {
  try {
    io::SafetensorsFile::open(dir_.file("absent.safetensors"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_HAS(std::string(e.what()), "absent.safetensors: cannot open");
  }
  write_bytes(path(), raw_file("{" + entry("a", "F32", "[1]", 0, 4) + "}", {0, 0, 0, 0}));
  const auto f = io::SafetensorsFile::open(path());
  try {
    f.read_f32("nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_HAS(std::string(e.what()), "no tensor 'nope'");
    EXPECT_HAS(std::string(e.what()), path());
  }
}

TEST_F(Malformed, DeeplyNestedHeader) {
  const std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_HAS(error_of(raw_file(deep, {})), "nested deeper");
}

// Corrupting any single byte of a valid two-tensor file (length, header or data) must give
// either a readable file or a linscope::Error, never a crash or another exception type. Run
// under the sanitizer preset this also shows that no byte outside the map is touched.
TEST_F(Malformed, EverySingleByteCorruptionIsCaughtOrHarmless) {
  const std::string header =
      "{" + entry("a", "F16", "[2]", 0, 4) + "," + entry("b", "I32", "[1,1]", 4, 8) + "}";
  const auto good = raw_file(header, std::vector<uint8_t>(8, 0x3C));
  int errors = 0, opened = 0;
  for (size_t i = 0; i < good.size(); ++i)
    for (const uint8_t v : {uint8_t(0x00), uint8_t(0xFF), uint8_t('9'), uint8_t('"')}) {
      if (good[i] == v) continue;
      auto bad = good;
      bad[i] = v;
      write_bytes(path(), bad);
      try {
        const auto f = io::SafetensorsFile::open(path());
        for (const auto& t : f.tensors()) (void)f.read_f32(t.name);
        ++opened;
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(path()), std::string::npos) << e.what();
        ++errors;
      }
    }
  EXPECT_GT(errors, 0);
  EXPECT_GT(opened, 0);  // data bytes are free to change
}
