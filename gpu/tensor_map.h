// Tensor maps for Hopper's tensor copies (cp.async.bulk.tensor, gpu/tc_bulk.cuh): the driver
// encodes them, reached through the runtime's entry-point query so that nothing links libcuda.
// No Qt; host code.
#pragma once
#include <cuda.h>

#include <cstdint>

namespace linscope::gpu {

// A bf16 tensor [batch][rows][inner] (inner contiguous) copied in boxes of 64 x box_rows
// elements: a box lands as box_rows rows of 128 bytes, each row's 16-byte chunk c stored at chunk
// c ^ (row % 8) (the 128-byte swizzle, which Hopper's warpgroup products read without bank
// conflicts). Elements past the tensor's extent read as zeros. Throws BackendError naming the
// shape when the driver refuses it.
CUtensorMap bf16_tensor_map_sw128(const void* base, uint64_t inner, uint64_t rows, uint64_t batch,
                                  uint32_t box_rows);

}  // namespace linscope::gpu
