// Tensor maps for Hopper's tensor copies (cp.async.bulk.tensor, gpu/tc_bulk.cuh): the driver
// encodes them, reached through the runtime's entry-point query so that nothing links libcuda.
// No Qt; host code.
#pragma once
#include <cuda.h>

#include <cstdint>

namespace linscope::gpu {

// A bf16 tensor [batch][rows][inner] (inner contiguous) copied in boxes of box_inner x box_rows
// elements: a box lands as box_rows rows of box_inner x 2 bytes, with swizzle128 (box_inner 64)
// each row's 16-byte chunk c stored at chunk c ^ (row % 8), the layout Hopper's warpgroup
// products read without bank conflicts. Elements past the tensor's extent read as zeros.
// Throws BackendError naming the shape when the driver refuses it.
CUtensorMap bf16_tensor_map(const void* base, uint64_t inner, uint64_t rows, uint64_t batch,
                            uint32_t box_inner, uint32_t box_rows, bool swizzle128);

}  // namespace linscope::gpu
