// Bad input gets linscope::Error naming the tensor and what is wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/base/error.h"
#include "core/linear_attention/linear_attention.h"
#include "linear_attention/la_testing.h"

namespace linscope {
namespace {

// Runs every form and expects an Error whose message contains each of `words`.
void expect_error(const Inputs& in, std::initializer_list<const char*> words,
                  RunOptions o = RunOptions{}) {
  const ModelSpec spec = la_test::spec_of(false);
  for (Form f : forms_of(spec)) {
    o.form = f;
    try {
      linear_attention::run(spec, in, o);
      ADD_FAILURE() << "no error for " << to_string(f);
    } catch (const Error& e) {
      for (const char* w : words)
        EXPECT_NE(std::string(e.what()).find(w), std::string::npos)
            << "message '" << e.what() << "' lacks '" << w << "'";
    }
  }
}

Inputs good() {
  la_test::Case c;
  c.L = 6;
  return la_test::make_inputs(c);  // S decay, log_decay [2,3,6]
}

TEST(LinearAttentionBadInput, WrongLogDecayShape) {
  Inputs in = good();
  in.set("log_decay", Tensor({2, 3, 7}, -0.1f));  // L + 1 steps
  expect_error(in, {"log_decay", "[2, 3, 7]"});
  in.set("log_decay", Tensor({2, 3, 6, 5}, -0.1f));  // per-channel with Dv, not Dk = 8
  expect_error(in, {"log_decay", "[2, 3, 6, 5]"});
}

TEST(LinearAttentionBadInput, PositiveLogDecay) {
  Inputs in = good();
  in.get("log_decay")[13] = 0.25f;  // |λ| = e^0.25 > 1: the state would grow without bound
  expect_error(in, {"log_decay", "<= 0", "step 1"});
  // Per-channel, too.
  Tensor a({2, 3, 6, 8}, -0.1f);
  a[100] = 1.0f;
  in.set("log_decay", a);
  expect_error(in, {"log_decay", "channel"});
}

TEST(LinearAttentionBadInput, NonFiniteLogDecay) {
  Inputs in = good();
  in.get("log_decay")[3] = -std::numeric_limits<float>::infinity();
  expect_error(in, {"log_decay", "finite"});
  in.get("log_decay")[3] = std::nanf("");
  expect_error(in, {"log_decay", "finite"});
}

// Rounding of log λ = 0 (e.g. a float log σ(x) for large x) is accepted, not an error.
TEST(LinearAttentionBadInput, TinyPositiveLogDecayIsAccepted) {
  Inputs in = good();
  in.get("log_decay")[5] = 1e-7f;
  const ModelSpec spec = la_test::spec_of(false);
  for (Form f : forms_of(spec)) EXPECT_NO_THROW(linear_attention::run(spec, in, RunOptions{f}));
}

TEST(LinearAttentionBadInput, ChunkAndDirection) {
  const Inputs in = good();
  RunOptions o{Form::Chunkwise};
  o.chunk = 0;
  EXPECT_THROW(linear_attention::run(la_test::spec_of(false), in, o), Error);
  ModelSpec bidir = la_test::spec_of(false);
  bidir.direction = Direction::Bidirectional;
  EXPECT_THROW(linear_attention::run(bidir, in, RunOptions{}), Error);
}

TEST(LinearAttentionBadInput, MisshapenKeys) {
  Inputs in = good();
  in.set("k", Tensor({2, 3, 6, 7}));
  expect_error(in, {"k", "[2, 3, 6, 7]"});
}

}  // namespace
}  // namespace linscope
