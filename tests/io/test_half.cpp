// Widening of IEEE binary16 and bfloat16 to float32. Expected values are worked out by hand
// from the bit layouts (sign | exponent | mantissa), not taken from the converter.
#include <gtest/gtest.h>

#include <cmath>

#include "core/io/half.h"

using linscope::io::bf16_to_f32;
using linscope::io::f16_to_f32;

TEST(Half, F16NormalValues) {
  EXPECT_EQ(f16_to_f32(0x3C00), 1.0f);                   // exp 15 (bias 15), mantissa 0
  EXPECT_EQ(f16_to_f32(0xC000), -2.0f);                  // sign, exp 16
  EXPECT_EQ(f16_to_f32(0x7BFF), 65504.0f);               // largest finite: (2 - 2^-10) * 2^15
  EXPECT_EQ(f16_to_f32(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);        // 1.0101010101b * 2^-2, exact
}

TEST(Half, F16Subnormals) {
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));            // smallest: 2^-24
  EXPECT_EQ(f16_to_f32(0x03FF), 1023.0f * std::ldexp(1.0f, -24));  // largest subnormal
  EXPECT_EQ(f16_to_f32(0x8200), -512.0f * std::ldexp(1.0f, -24));  // negative subnormal
}

TEST(Half, F16SpecialValues) {
  EXPECT_EQ(f16_to_f32(0x7C00), INFINITY);
  EXPECT_EQ(f16_to_f32(0xFC00), -INFINITY);
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7E00)));  // quiet NaN
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7C01)));  // signalling NaN: smallest payload stays NaN
  EXPECT_TRUE(std::isnan(f16_to_f32(0xFE00)));
  const float nz = f16_to_f32(0x8000);
  EXPECT_EQ(nz, 0.0f);
  EXPECT_TRUE(std::signbit(nz));  // -0 keeps its sign
  EXPECT_FALSE(std::signbit(f16_to_f32(0x0000)));
}

TEST(Half, Bf16Values) {
  EXPECT_EQ(bf16_to_f32(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xC040), -3.0f);
  EXPECT_EQ(bf16_to_f32(0x3EAB), 0.333984375f);            // 1.0101011b * 2^-2
  EXPECT_EQ(bf16_to_f32(0x0001), std::ldexp(1.0f, -133));  // smallest subnormal: 2^-149 * 2^16
  EXPECT_EQ(bf16_to_f32(0x7F80), INFINITY);
  EXPECT_EQ(bf16_to_f32(0xFF80), -INFINITY);
  EXPECT_TRUE(std::isnan(bf16_to_f32(0x7FC0)));
  EXPECT_TRUE(std::isnan(bf16_to_f32(0x7F81)));
  const float nz = bf16_to_f32(0x8000);
  EXPECT_EQ(nz, 0.0f);
  EXPECT_TRUE(std::signbit(nz));
}
