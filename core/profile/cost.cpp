#include "core/profile/cost.h"

#include <algorithm>

namespace linscope::profile {

Cost cost_of(const ModelSpec& spec, Form form, const Shape& s, int64_t chunk,
             double bytes_per_value) {
  const double L = static_cast<double>(s.L), dk = static_cast<double>(s.Dk),
               dv = static_cast<double>(s.Dv);
  const double C = static_cast<double>(std::clamp<int64_t>(chunk, 1, s.L));
  double f = 0;
  switch (form) {
    case Form::Recurrent:  // S = λS + k v^T (3 per entry), y = q^T S (2 per entry)
      f = 5.0 * L * dk * dv;
      break;
    case Form::Parallel:  // Q K^T, mask, (A) V over the full L x L
      f = 2.0 * L * L * (dk + dv) + L * L;
      break;
    case Form::Chunkwise:  // intra: Q_n K_n^T and A V_n per chunk; inter: Q S and K^T V
      f = 2.0 * L * C * (dk + dv) + 4.0 * L * dk * dv;
      break;
    case Form::Scan:  // Blelloch: ~2 combines per element, each a complex multiply-add
      f = 2.0 * 8.0 * L * dk * dv + 2.0 * L * dk * dv;
      break;
  }
  if (spec.family == Family::Lion && spec.direction == Direction::Bidirectional &&
      form != Form::Parallel)
    f *= 2.0;  // a forward and a backward sweep
  if (spec.family == Family::DeltaNet && form != Form::Parallel)
    f += 2.0 * L * dk * dv;  // the k^T S read-out of the delta rule
  if (spec.family == Family::GateLoop && form == Form::Recurrent) f *= 2.0;  // complex state
  const double per_token_in = 2 * dk + dv + (spec.family == Family::GateLoop ? 2 * dk : 1);
  Cost c;
  c.flops = f * static_cast<double>(s.heads());
  c.bytes = bytes_per_value * static_cast<double>(s.heads()) * L * (per_token_in + dv);
  return c;
}

}  // namespace linscope::profile
