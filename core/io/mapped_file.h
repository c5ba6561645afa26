// A read-only memory map of a whole file (POSIX mmap), released on destruction. Mapping instead
// of reading lets a multi-gigabyte checkpoint be inspected without copying its weights.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace linscope::io {

class MappedFile {
 public:
  // Throws linscope::Error naming the file when it cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace linscope::io
