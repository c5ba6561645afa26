// Flush-to-zero for the current thread while in scope. Float subnormals (|x| < 1.2e-38) in a
// GEMM's operands or products cost a microcode assist per operation on x86, ~100x a normal
// multiply; the O(L^2) forms multiply decays that reach that range at long L. Treating them as
// 0 changes an entry by less than 1.2e-38 in absolute terms, far below any tolerance the
// forms are checked at, and matches log_space.h's convention that what falls out of float's
// range contributes exactly 0. Restores the previous mode on exit.
#pragma once
#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace linscope {

class FlushDenormals {
 public:
#if defined(__SSE__) || defined(_M_X64)
  // FTZ (bit 15): subnormal results become 0; DAZ (bit 6): subnormal inputs read as 0.
  FlushDenormals() : saved_(_mm_getcsr()) {
    _mm_setcsr(saved_ | 0x8040u);
  }
  ~FlushDenormals() {
    _mm_setcsr(saved_);
  }

 private:
  unsigned saved_;
#else
  FlushDenormals() = default;
#endif
 public:
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;
};

}  // namespace linscope
