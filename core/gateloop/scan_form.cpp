// GateLoop's scan form (GateLoop §3, "parallel mode"; MODELS.md §3). Channels of the state are
// independent (diag(a_t) acts row by row), so each channel c is one scan over L elements
// (a_tc, b_t = k_tc v_t^T ∈ C^{Dv}); its inclusive prefix at t is row c of S_t.
// Memory: one channel's L·Dv complex floats at a time (O(L·Dv) per head instead of the whole
// O(L·Dk·Dv) state history), e.g. 1 MiB for L = 16384, Dv = 8.
#include "core/gateloop/detail.h"
#include "core/gateloop/scan.h"

namespace linscope::gateloop::detail {

void scan_head(const ConstMatrixView& q, const ConstMatrixView& k, const ConstMatrixView& v,
               const ConstMatrixView& log_magnitude, const ConstMatrixView& phase, MatrixView y,
               const StateRecord& record, int64_t bh) {
  const int64_t L = q.rows(), Dk = q.cols(), Dv = v.cols();
  std::vector<ScanElement> x(static_cast<size_t>(L));
  for (auto& e : x) e.b.resize(static_cast<size_t>(Dv));
  y.setZero();
  for (int64_t c = 0; c < Dk; ++c) {
    for (int64_t t = 0; t < L; ++t) {
      ScanElement& e = x[static_cast<size_t>(t)];
      e.log_magnitude = log_magnitude(t, c);
      e.phase = phase(t, c);
      for (int64_t d = 0; d < Dv; ++d) e.b[static_cast<size_t>(d)] = k(t, c) * v(t, d);
    }
    inclusive_scan(x);
    // y_t = Σ_c q_tc Re(S_t[c, :]).
    for (int64_t t = 0; t < L; ++t) {
      const ScanElement& e = x[static_cast<size_t>(t)];
      for (int64_t d = 0; d < Dv; ++d) y(t, d) += q(t, c) * e.b[static_cast<size_t>(d)].real();
    }
    if (!record.steps) continue;
    for (size_t n = 0; n < record.steps->size(); ++n) {
      const ScanElement& e = x[static_cast<size_t>((*record.steps)[n])];
      MatrixView re = trace_state(*record.real, bh, static_cast<int64_t>(n));
      MatrixView im = trace_state(*record.imag, bh, static_cast<int64_t>(n));
      for (int64_t d = 0; d < Dv; ++d) {
        re(c, d) = e.b[static_cast<size_t>(d)].real();
        im(c, d) = e.b[static_cast<size_t>(d)].imag();
      }
    }
  }
}

}  // namespace linscope::gateloop::detail
