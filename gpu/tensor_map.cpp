// gpu/tensor_map.h: encoding a tensor map through the driver's cuTensorMapEncodeTiled.
#include "gpu/tensor_map.h"

#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include <string>

#include "gpu/cuda_check.h"

namespace linscope::gpu {
namespace {

PFN_cuTensorMapEncodeTiled_v12000 encode_function() {
  static PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult status{};
    const cudaError_t e = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000,
                                                           cudaEnableDefault, &status);
    if (e != cudaSuccess || status != cudaDriverEntryPointSuccess) p = nullptr;
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
  }();
  if (!fn) throw BackendError("the CUDA driver offers no cuTensorMapEncodeTiled (driver too old?)");
  return fn;
}

}  // namespace

CUtensorMap bf16_tensor_map_sw128(const void* base, uint64_t inner, uint64_t rows, uint64_t batch,
                                  uint32_t box_rows) {
  constexpr uint32_t box_inner = 64;  // 128 bytes: the swizzle's row
  CUtensorMap map{};
  const cuuint64_t dims[3] = {inner, rows, batch};
  const cuuint64_t strides[2] = {inner * 2, inner * rows * 2};  // bytes, dims 1 and 2
  const cuuint32_t box[3] = {box_inner, box_rows, 1};
  const cuuint32_t steps[3] = {1, 1, 1};
  const CUresult r = encode_function()(
      &map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 3, const_cast<void*>(base), dims, strides, box, steps,
      CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
      CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS)
    throw BackendError("cuTensorMapEncodeTiled refused a bf16 tensor of " + std::to_string(batch) +
                       " x " + std::to_string(rows) + " x " + std::to_string(inner) +
                       " in boxes of " + std::to_string(box_rows) + " x " +
                       std::to_string(box_inner) + " (error " + std::to_string(int(r)) + ")");
  return map;
}

}  // namespace linscope::gpu
