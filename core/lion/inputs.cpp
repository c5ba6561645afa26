// Input checks and per-head decays for LION.
#include "core/base/error.h"
#include "core/lion/detail.h"

namespace linscope::lion::detail {

Shape check_inputs(const Inputs& in) {
  const Shape s = in.shape();
  expect_shape(in, "k", {s.B, s.H, s.L, s.Dk});
  if (s.L < 1) throw Error("q: LION needs a sequence of at least one token, got L = 0");
  if (in.has("log_decay") && expect_decay_shape(in, "log_decay", s))
    throw Error("log_decay: LION uses one scalar decay per token, expected shape " +
                shape_to_string({s.B, s.H, s.L}) + ", got the per-channel " +
                in.get("log_decay").shape_string());
  in.check_finite();
  if (in.has("log_decay")) {
    // LION's decays lie in (0, 1] (σ(a) or 1 − σ(a)): log λ > 0 would make the mask grow with
    // distance and break the chunkwise factorization's exponents <= 0.
    const Tensor& a = in.get("log_decay");
    for (int64_t n = 0; n < a.numel(); ++n)
      if (a[n] > 0.0f)
        throw Error("log_decay: LION needs λ_t <= 1 (log λ_t <= 0), got log λ = " +
                    std::to_string(a[n]) + " at flat index " + std::to_string(n));
  }
  return s;
}

std::vector<double> head_log_decay(const Inputs& in, int64_t bh, int64_t L) {
  std::vector<double> a(static_cast<size_t>(L), 0.0);
  if (!in.has("log_decay")) return a;
  const ConstVectorView d = head_vector(in.get("log_decay"), bh);
  for (int64_t t = 0; t < L; ++t) a[static_cast<size_t>(t)] = d(t);
  return a;
}

std::vector<double> cumulative(const std::vector<double>& a) {
  std::vector<double> A(a.size());
  double s = 0.0;
  for (size_t t = 0; t < a.size(); ++t) A[t] = (s += a[t]);
  return A;
}

}  // namespace linscope::lion::detail
