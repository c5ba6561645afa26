// 16-bit float formats found in checkpoints, widened to float32 exactly (every f16 and bf16
// value is representable in f32, so the conversion never rounds).
//   IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits; exponent 0 holds zeros and
//   subnormals (mantissa * 2^-24), exponent 31 holds inf (mantissa 0) and NaN.
//   bfloat16: the upper half of a binary32, so widening is a 16-bit shift.
#pragma once
#include <cstdint>

namespace linscope::io {

float f16_to_f32(uint16_t bits);
float bf16_to_f32(uint16_t bits);

}  // namespace linscope::io
