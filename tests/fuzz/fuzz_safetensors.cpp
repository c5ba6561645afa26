// libFuzzer target: arbitrary bytes as a .safetensors file. The reader must either open the file
// and convert every tensor it lists to float32, or throw linscope::Error. A crash, a sanitizer
// report, a hang or any other exception type is a bug.
#include <cstddef>
#include <cstdint>
#include <exception>

#include "core/base/error.h"
#include "core/io/safetensors.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = linscope::fuzz::write_file("input.safetensors", data, size);
  try {
    const auto file = linscope::io::SafetensorsFile::open(path);
    for (const auto& t : file.tensors()) {
      // Every listed tensor must be readable: open() promised its bytes lie inside the file.
      const linscope::Tensor x = file.read_f32(t.name);
      if (x.numel() != linscope::numel_of(t.shape)) {
        std::fprintf(stderr, "read_f32(%s) returned %lld values for shape %s\n", t.name.c_str(),
                     static_cast<long long>(x.numel()), linscope::shape_to_string(t.shape).c_str());
        std::abort();
      }
      (void)file.raw(t.name);
    }
    (void)file.metadata();
  } catch (const linscope::Error& e) {
    linscope::fuzz::expected_error(e.what());
    // The defined outcome for a malformed file.
  } catch (const std::exception& e) {
    linscope::fuzz::unexpected(e.what());
  }
  return 0;
}
