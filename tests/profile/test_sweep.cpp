#include <gtest/gtest.h>

#include <atomic>
#include <cmath>

#include "core/base/error.h"
#include "core/profile/cost.h"
#include "core/profile/sweep.h"

namespace linscope::profile {
namespace {

SweepConfig small_config() {
  SweepConfig c;
  ModelSpec la;  // causal linear attention, D decay
  ModelSpec lion;
  lion.family = Family::Lion;
  lion.direction = Direction::Bidirectional;
  lion.normalize = true;
  c.models = {la, lion};
  c.lengths = {8, 16, 32};
  c.dims = {4};
  c.chunks = {2, 4};
  c.batch_heads = {1, 2};
  c.repetitions = 3;
  c.warmup = 0;
  return c;
}

TEST(Sweep, GridHasOnePointPerCombinationAndChunksOnlyForChunkwise) {
  const SweepConfig c = small_config();
  // Per model: 3 forms; chunkwise x2 chunks -> 4 variants x 2 batch_heads x 3 lengths = 24.
  EXPECT_EQ(expand(c).size(), 2u * 4 * 2 * 3);
  SweepConfig only = c;
  only.forms = {Form::Scan};  // neither model has it
  EXPECT_TRUE(expand(only).empty());
}

TEST(Sweep, CancelStopsAfterTheCurrentPoint) {
  SweepConfig c = small_config();
  std::atomic<bool> cancel{false};
  size_t calls = 0;
  const auto results = run_sweep(
      c,
      [&](const SweepResult&, size_t done, size_t total) {
        ++calls;
        EXPECT_EQ(done, calls);
        EXPECT_EQ(total, expand(c).size());
        if (done == 2) cancel = true;
      },
      &cancel);
  EXPECT_EQ(results.size(), 2u);
  EXPECT_EQ(calls, 2u);
}

TEST(Sweep, MedianMinMaxAndExponent) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  std::vector<double> x{100, 200, 400, 800}, y1, y2;
  for (double v : x) {
    y1.push_back(3 * v);
    y2.push_back(0.5 * v * v);
  }
  EXPECT_NEAR(fit_exponent(x, y1), 1.0, 1e-12);
  EXPECT_NEAR(fit_exponent(x, y2), 2.0, 1e-12);
}

std::vector<SweepResult> sample_results() {
  SweepConfig c = small_config();
  c.repetitions = 2;
  std::vector<SweepResult> rs;
  for (const auto& p : expand(c)) {
    SweepResult r;
    r.point = p;
    r.times_ms = {1.25, 0.5 + p.shape.L};
    r.median_ms = 1.5;
    r.min_ms = 0.5;
    r.max_ms = 2.5 + p.shape.L;
    r.flops = 1e9 * p.shape.L;
    r.bytes = 12345.5;
    r.device = "CPU (2 threads)";
    r.note = "a note, with a comma and \"quotes\"";
    rs.push_back(r);
  }
  rs[3].error = "failed: out of memory";
  rs[4].point.bf16 = true;
  return rs;
}

void expect_same(const std::vector<SweepResult>& a, const std::vector<SweepResult>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(to_string(a[i].point.form), to_string(b[i].point.form));
    EXPECT_EQ(describe(a[i].point.model), describe(b[i].point.model));
    EXPECT_EQ(a[i].point.shape.L, b[i].point.shape.L);
    EXPECT_EQ(a[i].point.shape.H, b[i].point.shape.H);
    EXPECT_EQ(a[i].point.chunk, b[i].point.chunk);
    EXPECT_EQ(a[i].point.bf16, b[i].point.bf16);
    EXPECT_EQ(a[i].times_ms, b[i].times_ms);
    EXPECT_DOUBLE_EQ(a[i].median_ms, b[i].median_ms);
    EXPECT_DOUBLE_EQ(a[i].max_ms, b[i].max_ms);
    EXPECT_DOUBLE_EQ(a[i].flops, b[i].flops);
    EXPECT_EQ(a[i].device, b[i].device);
    EXPECT_EQ(a[i].note, b[i].note);
    EXPECT_EQ(a[i].error, b[i].error);
  }
}

TEST(Sweep, JsonRoundTrip) {
  const auto rs = sample_results();
  expect_same(from_json(nlohmann::json::parse(to_json(rs).dump())), rs);
  EXPECT_THROW(from_json(nlohmann::json::parse(R"({"points": []})")), Error);
  auto j = to_json(rs);
  j["points"][1].erase("form");
  EXPECT_THROW(from_json(j), Error);
}

TEST(Sweep, CsvRoundTrip) {
  const auto rs = sample_results();
  expect_same(from_csv(to_csv(rs)), rs);
  EXPECT_THROW(from_csv("a,b,c\n"), Error);
  std::string bad = to_csv(rs);
  bad += "linear-attention,D,causal,0,recurrent,cpu,1,1,x,4,4\n";
  EXPECT_THROW(from_csv(bad), Error);
}

TEST(Cost, ParallelIsQuadraticAndRecurrentLinearInL) {
  ModelSpec m;
  const Shape s1{1, 1, 1000, 64, 64}, s2{1, 1, 2000, 64, 64};
  const double rp =
      cost_of(m, Form::Parallel, s2, 64).flops / cost_of(m, Form::Parallel, s1, 64).flops;
  const double rr =
      cost_of(m, Form::Recurrent, s2, 64).flops / cost_of(m, Form::Recurrent, s1, 64).flops;
  EXPECT_NEAR(rp, 4.0, 0.01);
  EXPECT_NEAR(rr, 2.0, 1e-12);
  EXPECT_NEAR(cost_of(m, Form::Chunkwise, s2, 64).bytes / cost_of(m, Form::Chunkwise, s1, 64).bytes,
              2.0, 1e-12);
}

}  // namespace
}  // namespace linscope::profile

#include "core/profile/analysis.h"

namespace linscope::profile {
namespace {

SweepResult timed(Form f, int64_t L, double ms, int64_t chunk = 64) {
  SweepResult r;
  r.point.form = f;
  r.point.shape = Shape{1, 2, L, 32, 32};
  r.point.chunk = chunk;
  r.median_ms = ms;
  return r;
}

TEST(Analysis, CrossoverIsInterpolatedBetweenTheMeasuredLengths) {
  // recurrent 1 ms/1000 tokens; chunkwise 2 ms fixed + 0.5 ms/1000 tokens: equal at L = 4000.
  std::vector<SweepResult> rs;
  for (int64_t L : {1000, 2000, 8000, 16000}) {
    rs.push_back(timed(Form::Recurrent, L, L / 1000.0));
    rs.push_back(timed(Form::Chunkwise, L, 2.0 + L / 2000.0));
  }
  const auto x = crossover_length(rs, Form::Chunkwise, Form::Recurrent);
  ASSERT_TRUE(x.has_value());
  EXPECT_GT(*x, 2000);
  EXPECT_LT(*x, 8000);
  EXPECT_FALSE(crossover_length(rs, Form::Recurrent, Form::Chunkwise).has_value());
  rs.push_back(timed(Form::Parallel, 1000, 1));
  EXPECT_FALSE(crossover_length(rs, Form::Scan, Form::Recurrent).has_value());
}

TEST(Analysis, BestChunkIsTakenAtTheLargestLength) {
  std::vector<SweepResult> rs{
      timed(Form::Chunkwise, 1000, 1.0, 16), timed(Form::Chunkwise, 1000, 3.0, 64),
      timed(Form::Chunkwise, 4000, 5.0, 16), timed(Form::Chunkwise, 4000, 4.0, 64)};
  EXPECT_EQ(best_chunk(rs).value(), 64);
  rs.back().error = "failed";
  EXPECT_EQ(best_chunk(rs).value(), 16);
}

}  // namespace
}  // namespace linscope::profile
