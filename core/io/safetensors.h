// safetensors, the Hugging Face tensor file format: an 8-byte little-endian header length N,
// N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}},
// then the raw little-endian data. Read memory-mapped; every offset and size is checked
// against the file before a byte is touched.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/inputs.h"
#include "core/base/tensor.h"

namespace linscope::io {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };
std::string to_string(DType);
size_t dtype_size(DType);

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets into the data section
  uint64_t bytes() const { return end - begin; }
};

class SafetensorsFile {
 public:
  // Throws linscope::Error naming the file and what is wrong with it.
  static SafetensorsFile open(const std::string& path);
  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::string& path() const;
  const std::vector<TensorInfo>& tensors() const;  // in file order
  const std::map<std::string, std::string>& metadata() const;
  bool has(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;  // throws Error naming the tensor
  // Converts any dtype to float32. Throws Error naming the file and tensor.
  Tensor read_f32(const std::string& name) const;
  // The tensor's bytes as stored (little-endian, info(name).bytes() long), inside the map:
  // valid while this object lives. Throws Error naming the tensor when absent.
  const uint8_t* raw(const std::string& name) const;

 private:
  struct Impl;
  explicit SafetensorsFile(std::unique_ptr<Impl>);
  std::unique_ptr<Impl> impl_;
};

// Every tensor of the file as float32, by name (the exchange format of the CLI).
Inputs read_inputs(const std::string& path);
// Writes float32 tensors; the file is written to a temporary name and renamed into place so
// that a failure never leaves a half-written file. Throws Error on I/O failure.
void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace linscope::io
