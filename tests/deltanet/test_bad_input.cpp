// Bad input is refused with an Error that names the offending tensor.
#include <gtest/gtest.h>

#include <limits>

#include "core/base/error.h"
#include "deltanet/deltanet_testing.h"

namespace linscope::deltanet_test {
namespace {

void expect_error_naming(const Inputs& in, const std::string& name, Form f = Form::Recurrent) {
  try {
    RunOptions o{f};
    o.chunk = 4;
    deltanet::run(deltanet_spec(), in, o);
    ADD_FAILURE() << "no error for bad " << name;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
}

TEST(DeltaNetBadInput, BetaOutsideTheUnitIntervalIsRejected) {
  for (float bad : {-0.01f, 1.01f, std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity()}) {
    Inputs in = make_inputs(Case{});
    in.get("beta")[3] = bad;
    for (Form f : {Form::Recurrent, Form::Chunkwise, Form::Parallel})
      expect_error_naming(in, "beta", f);
  }
}

TEST(DeltaNetBadInput, BetaAtTheEndpointsIsAccepted) {
  Inputs in = make_inputs(Case{});
  in.get("beta")[0] = 0.0f;
  in.get("beta")[1] = 1.0f;
  EXPECT_NO_THROW(deltanet::run(deltanet_spec(), in, RunOptions{Form::Parallel}));
}

TEST(DeltaNetBadInput, WrongShapesNameTheTensor) {
  const Case c;
  for (const char* name : {"k", "v"}) {
    Inputs in = make_inputs(c);
    in.set(name, Tensor({c.B, c.H, c.L + 1, 3}));
    expect_error_naming(in, name);
  }
  Inputs in = make_inputs(c);
  in.set("beta", Tensor({c.B, c.H, c.L, 1}));
  expect_error_naming(in, "beta");
  in.tensors.erase("beta");
  expect_error_naming(in, "beta");
}

TEST(DeltaNetBadInput, ScanIsNotADeltaNetFormAndChunkMustBePositive) {
  EXPECT_THROW(deltanet::run(deltanet_spec(), make_inputs(Case{}), RunOptions{Form::Scan}), Error);
  RunOptions o{Form::Chunkwise};
  o.chunk = 0;
  EXPECT_THROW(deltanet::run(deltanet_spec(), make_inputs(Case{}), o), Error);
}

}  // namespace
}  // namespace linscope::deltanet_test
