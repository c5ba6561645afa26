// LCSM evaluation. The EOS recurrence m_t = o_t ⊙ m_{t−1} + e_t i_t^T, y_t = m_t^T s_t (LCSM
// paper, the general form its table specialises) is, with s = q, e = k, i = v and o = λ,
// exactly S_t = λ_t S_{t−1} + k_t v_t^T, y_t = q_t^T S_t (MODELS.md §1) with a per-token
// (Decay::S) scalar or per-channel decay. Rather than a second copy of those forms, every form
// delegates to linear_attention::run; LCSM has no normalizer, so normalize is always off.
#include "core/base/error.h"
#include "core/lcsm/lcsm.h"
#include "core/linear_attention/linear_attention.h"

namespace linscope::lcsm {

Result run(const ModelSpec& spec, const Inputs& in, const RunOptions& opts) {
  if (opts.form != Form::Recurrent && opts.form != Form::Chunkwise && opts.form != Form::Parallel)
    throw Error(describe(spec) + ": no " + to_string(opts.form) +
                " form (LCSM has recurrent, chunkwise and parallel)");
  const Shape s = in.shape();
  expect_decay_shape(in, "log_decay", s);
  ModelSpec la;
  la.family = Family::LinearAttention;
  la.decay = Decay::S;  // o_t may change with t: the most general decay
  la.direction = Direction::Causal;
  la.normalize = false;
  return linear_attention::run(la, in, opts);
}

std::string describe_settings(const LcsmSettings& st) {
  auto word = [](LcsmSource s) {
    switch (s) {
      case LcsmSource::DataDependent:
        return std::string("data");
      case LcsmSource::Fixed:
        return std::string("fixed");
      case LcsmSource::Constant:
        return std::string("constant");
    }
    return std::string("?");
  };
  std::string o = word(st.oscillation);
  // A constant o = 1 is the same for every channel, so "per-channel" would say nothing.
  if (st.oscillation != LcsmSource::Constant)
    o += st.oscillation_per_channel ? " per-channel" : " scalar";
  return "e: " + word(st.expand) + ", o: " + o + ", s: " + word(st.shrink);
}

}  // namespace linscope::lcsm
