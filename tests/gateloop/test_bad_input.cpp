// Bad input is refused with an Error that names the offending tensor.
#include <gtest/gtest.h>

#include <limits>

#include "core/base/error.h"
#include "gateloop/gateloop_testing.h"

namespace linscope::gateloop_test {
namespace {

void expect_error_naming(const Inputs& in, const std::string& name, Form f = Form::Recurrent) {
  try {
    gateloop::run(gateloop_spec(), in, RunOptions{f});
    ADD_FAILURE() << "no error for bad " << name;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
}

TEST(GateLoopBadInput, PositiveLogMagnitudeIsRejected) {
  Inputs in = make_inputs(Case{});
  in.get("log_magnitude")[5] = 0.01f;
  for (Form f : {Form::Recurrent, Form::Scan, Form::Parallel})
    expect_error_naming(in, "log_magnitude", f);
  in.get("log_magnitude")[5] = std::numeric_limits<float>::quiet_NaN();
  expect_error_naming(in, "log_magnitude");
}

TEST(GateLoopBadInput, ZeroLogMagnitudeIsAccepted) {
  Inputs in = make_inputs(Case{});
  in.get("log_magnitude")[5] = 0.0f;  // |a| = 1: a pure rotation is allowed
  EXPECT_NO_THROW(gateloop::run(gateloop_spec(), in, RunOptions{Form::Scan}));
}

TEST(GateLoopBadInput, WrongShapesNameTheTensor) {
  const Case c;
  for (const char* name : {"k", "v", "log_magnitude", "phase"}) {
    Inputs in = make_inputs(c);
    in.set(name, Tensor({c.B, c.H, c.L + 1, 3}));
    expect_error_naming(in, name);
  }
  Inputs in = make_inputs(c);
  in.tensors.erase("phase");
  expect_error_naming(in, "phase");
}

TEST(GateLoopBadInput, ChunkwiseIsNotAGateLoopForm) {
  EXPECT_THROW(gateloop::run(gateloop_spec(), make_inputs(Case{}), RunOptions{Form::Chunkwise}),
               Error);
}

}  // namespace
}  // namespace linscope::gateloop_test
