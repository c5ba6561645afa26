#!/bin/bash
# One device call: build the CUDA backend and its tests, run the GPU tests, compute-sanitizer
# memcheck + racecheck on small shapes, then the benchmark. Logs go to $OUT (the device tool's
# return folder). Needs the carried .devdeps/ (Eigen, nlohmann-json, googletest sources), laid
# out as an install prefix: .devdeps/{include,share}/..., .devdeps/googletest.
#   usage: tools/device/gpu_validate.sh [bench args...]   (BENCH=0 skips the CLI benchmark;
#   BENCH_TC=1 also times the bf16 tensor-core chunkwise path with tools/device/bench_tc.cpp;
#   VALIDATE_BUDGET=seconds (default 540) caps the whole script below the device call's 600 s
#   limit: every later step's timeout is cut to what is left, so logs always come back)
set -u
BUDGET=${VALIDATE_BUDGET:-540}
# Seconds a step may take: its own cap, or what is left of the budget (less 10 s to pack the
# logs), at least 1.
cap() {
  local left=$((BUDGET - SECONDS - 10))
  [ "$left" -lt 1 ] && left=1
  [ "$1" -lt "$left" ] && echo "$1" || echo "$left"
}
OUT=${OUT:-/tmp/linscope-out}
mkdir -p "$OUT"
D=$PWD/.devdeps
BUILD=build-dev
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  nvcc --version | tail -2
  echo 'int main(){return 0;}' | g++ -fopenmp -x c++ - -o /tmp/omp_check && echo "OpenMP: ok"
} >"$OUT/env.log" 2>&1
cat "$OUT/env.log"

cmake -S . -B $BUILD -G Ninja -DLINSCOPE_GUI=OFF -DLINSCOPE_CUDA=ON -DLINSCOPE_BENCH=OFF \
  -DCMAKE_CUDA_ARCHITECTURES=90a -DCMAKE_PREFIX_PATH="$D" -DEigen3_DIR="$D/share/eigen3/cmake" \
  -Dnlohmann_json_DIR="$D/share/cmake/nlohmann_json" -DLINSCOPE_GTEST_SOURCE_DIR="$D/googletest" \
  >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
cmake --build $BUILD -j16 --target gpu_test_backend gpu_test_lion gpu_test_linear_attention gpu_test_linear_attention_tc \
  gpu_test_gateloop gpu_test_gateloop_tc gpu_test_deltanet gpu_test_grid_timing gpu_test_failure_paths gpu_test_lightnet gpu_test_lightnet_grid gpu_test_lcsm gpu_test_trace \
  >>"$OUT/build.log" 2>&1 || { grep -E "error|FAILED" -A3 "$OUT/build.log" | head -40; exit 1; }
# The bench: linscope-cli when the whole CLI builds, else the stand-alone main over cmd_bench.cpp.
if [ "${BENCH:-1}" = 0 ]; then
  BENCH_CMD=(true)
elif cmake --build $BUILD -j16 --target linscope-cli >>"$OUT/build.log" 2>&1; then
  BENCH_CMD=("$BUILD/app/linscope-cli" bench)
else
  echo "linscope-cli did not build; using tools/device/bench_main.cpp"
  g++ -std=c++20 -O2 -I. -I/usr/local/cuda/include -DLINSCOPE_HAVE_CUDA tools/device/bench_main.cpp \
    app/cli/cmd_bench.cpp app/cli/args.cpp $BUILD/gpu/liblinscope_gpu.a $BUILD/core/liblinscope_lightnet.a $BUILD/core/liblinscope_base.a \
    -L/usr/local/cuda/lib64 -lcudart -lcublas -fopenmp -o $BUILD/gpu-bench >>"$OUT/build.log" 2>&1
  BENCH_CMD=("$BUILD/gpu-bench")
fi
if [ "${BENCH_TC:-0}" != 0 ]; then
  g++ -std=c++20 -O2 -I. -I/usr/local/cuda/include tools/device/bench_tc.cpp \
    $BUILD/gpu/liblinscope_gpu.a $BUILD/core/liblinscope_lightnet.a $BUILD/core/liblinscope_base.a -L/usr/local/cuda/lib64 -lcudart \
    -lcublas -fopenmp -o $BUILD/bench-tc >>"$OUT/build.log" 2>&1 || { echo "bench_tc: build failed"; tail -20 "$OUT/build.log"; }
fi
echo "build: ok (${SECONDS}s)"

status=0
for t in backend linear_attention linear_attention_tc gateloop gateloop_tc lion deltanet grid_timing failure_paths lightnet lightnet_grid lcsm trace; do
  timeout $(cap 120) ./$BUILD/tests/gpu_test_$t --gtest_brief=1 >"$OUT/test_$t.log" 2>&1 || status=1
  echo "gpu_test_$t: $(grep -E '^\[  (PASSED  |FAILED  |SKIPPED )\]|tests? ran' "$OUT/test_$t.log" | tr '\n' ' ') (${SECONDS}s)"
done
# The DeltaNet recurrence's other layout at 64 < d_k <= 128 (four lanes of 32 rows; a knob for
# measuring), so that it stays correct.
LINSCOPE_DN_LPC=4 timeout $(cap 60) ./$BUILD/tests/gpu_test_deltanet --gtest_brief=1 --gtest_filter='*Recurrent*' \
  >"$OUT/test_deltanet_lpc4.log" 2>&1 || status=1
echo "gpu_test_deltanet, recurrence with four lanes: $(grep -E '^\[  (PASSED  |FAILED  )\]' "$OUT/test_deltanet_lpc4.log" | tr '\n' ' ') (${SECONDS}s)"
# And four value columns a lane on every shape (the reduction by halving; partial column groups).
LINSCOPE_DN_COLS=4 timeout $(cap 60) ./$BUILD/tests/gpu_test_deltanet --gtest_brief=1 --gtest_filter='*Recurrent*' \
  >"$OUT/test_deltanet_cols4.log" 2>&1 || status=1
echo "gpu_test_deltanet, recurrence with four columns a lane: $(grep -E '^\[  (PASSED  |FAILED  )\]' "$OUT/test_deltanet_cols4.log" | tr '\n' ' ') (${SECONDS}s)"
# DeltaNet's parallel form with Δ from the WMMA state pass where the mma.sync one applies
# (LINSCOPE_DN_DELTA=wmma, a knob for measuring), so that both stay correct.
LINSCOPE_DN_DELTA=wmma timeout $(cap 60) ./$BUILD/tests/gpu_test_deltanet --gtest_brief=1 \
  --gtest_filter='*ParallelTensorCores*' >"$OUT/test_deltanet_delta_wmma.log" 2>&1 || status=1
echo "gpu_test_deltanet, parallel form with the WMMA Δ pass: $(grep -E '^\[  (PASSED  |FAILED  )\]' "$OUT/test_deltanet_delta_wmma.log" | tr '\n' ' ') (${SECONDS}s)"
# GateLoop's surrogate attention on the mma.sync kernel where the warpgroup one runs by default
# (LINSCOPE_GL_PAR=mma), in each of its block shapes (LINSCOPE_GL_SHAPE): knobs for measuring,
# run here so that every kernel and shape stays correct.
for shape in 128 256x32 256; do
  LINSCOPE_GL_PAR=mma LINSCOPE_GL_SHAPE=$shape timeout $(cap 60) ./$BUILD/tests/gpu_test_gateloop_tc --gtest_brief=1 \
    >"$OUT/test_gateloop_tc_$shape.log" 2>&1 || status=1
  echo "gpu_test_gateloop_tc, mma.sync attention blocks of shape $shape: $(grep -E '^\[  (PASSED  |FAILED  )\]' "$OUT/test_gateloop_tc_$shape.log" | tr '\n' ' ') (${SECONDS}s)"
done
# GateLoop's scan on the mma.sync kernel, in its 8-warp block (64 value columns) and its 16-warp
# one (128), also where d_v > 64 takes the warpgroup kernel by default (LINSCOPE_GL_SCAN=8|16,
# knobs for measuring), so that every kernel and shape stays correct.
for w in 8 16; do
  LINSCOPE_GL_SCAN=$w timeout $(cap 60) ./$BUILD/tests/gpu_test_gateloop_tc --gtest_brief=1 \
    >"$OUT/test_gateloop_tc_scan$w.log" 2>&1 || status=1
  echo "gpu_test_gateloop_tc, the scan in $w-warp blocks: $(grep -E '^\[  (PASSED  |FAILED  )\]' "$OUT/test_gateloop_tc_scan$w.log" | tr '\n' ' ') (${SECONDS}s)"
done
# The tensor-core parallel form on the mma.sync kernel where the warpgroup one runs by default
# (d_k 64 and 128; LINSCOPE_LA_PAR=mma), with the warp count each shape does not take by default
# (four warps at d = 128 and in LION, eight for the causal form below d = 128;
# LINSCOPE_LA_PAR_WARPS), through linear attention, LION and DeltaNet's parallel form: knobs for
# measuring, run here so that every kernel stays correct.
for w in 4 8; do
  LINSCOPE_LA_PAR=mma LINSCOPE_LA_PAR_WARPS=$w timeout $(cap 60) ./$BUILD/tests/gpu_test_linear_attention_tc --gtest_brief=1 \
    --gtest_filter='*TcParallel*' >"$OUT/test_la_tc_parallel_w$w.log" 2>&1 || status=1
  LINSCOPE_LA_PAR=mma LINSCOPE_LA_PAR_WARPS=$w timeout $(cap 60) ./$BUILD/tests/gpu_test_deltanet --gtest_brief=1 \
    --gtest_filter='*ParallelTensorCores*' >"$OUT/test_deltanet_parallel_w$w.log" 2>&1 || status=1
  echo "parallel form on mma.sync with $w warps a block: $(grep -hE '^\[  (PASSED  |FAILED  )\]' "$OUT/test_la_tc_parallel_w$w.log" "$OUT/test_deltanet_parallel_w$w.log" | tr '\n' ' ') (${SECONDS}s)"
done
# The tensor-core figures before the sanitizers, so that a slow racecheck cannot crowd them out.
if [ "${BENCH_TC:-0}" != 0 ]; then
  timeout $(cap ${BENCH_TC_TIMEOUT:-120}) ./$BUILD/bench-tc 2>&1 | tee "$OUT/bench_tc.log"
fi
# Sanitizers on small shapes (racecheck serializes every shared-memory access: keep it small).
SMALL='GpuTest.HandWorkedThreeTokens:Chunks/LaForms.MatchesDefinitionAndCpu/3:AllForms/LaForms.MatchesDefinitionAndCpu/*'
for tool in memcheck racecheck; do
  timeout $(cap 90) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_linear_attention --gtest_filter="$SMALL" >"$OUT/sanitizer_la_$tool.log" 2>&1
  echo "compute-sanitizer $tool (linear attention): rc=$? (${SECONDS}s)"
  LINSCOPE_REC_COLS=2 timeout $(cap 60) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_linear_attention --gtest_filter="$SMALL" >"$OUT/sanitizer_la2_$tool.log" 2>&1
  echo "compute-sanitizer $tool (linear attention, recurrence with two columns per lane): rc=$? (${SECONDS}s)"
  timeout $(cap 45) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_linear_attention_tc --gtest_filter='GpuTest.TcSmall:GpuTest.TcMmaSmall:GpuTest.TcParallelSmall:GpuTest.TcBothValueTileWidths:Bf16/TcForms.*/0:Bf16/TcForms.*/5:Bf16/LionTcForms.*/1:Bf16/LionTcForms.*/10' \
    >"$OUT/sanitizer_la_tc_$tool.log" 2>&1
  echo "compute-sanitizer $tool (linear attention, tensor cores): rc=$? (${SECONDS}s)"
  LINSCOPE_LA_PAR_WARPS=8 timeout $(cap 30) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_linear_attention_tc --gtest_filter='GpuTest.TcParallelSmall' \
    >"$OUT/sanitizer_la_tc_w8_$tool.log" 2>&1
  echo "compute-sanitizer $tool (parallel form, eight warps a block, causal and LION): rc=$? (${SECONDS}s)"
  timeout $(cap 45) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_linear_attention_tc --gtest_filter='GpuTest.TcParallelWarpgroupKernelWhereBuilt:Bf16/TcParallelWideForms.*/3' \
    >"$OUT/sanitizer_la_tc_wgmma_$tool.log" 2>&1
  echo "compute-sanitizer $tool (parallel form on wgmma, causal and LION): rc=$? (${SECONDS}s)"
  timeout $(cap 45) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_gateloop --gtest_filter='*HandWorked*:*ScanSmall*:*SurrogateAttention*' >"$OUT/sanitizer_gateloop_$tool.log" 2>&1
  echo "compute-sanitizer $tool (gateloop): rc=$? (${SECONDS}s)"
  timeout $(cap 30) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_gateloop_tc --gtest_filter='*GateLoopTcSmall*:*FallsBack*:*MatchesDefinition*:*ScanWarpgroup*' >"$OUT/sanitizer_gateloop_tc_$tool.log" 2>&1
  echo "compute-sanitizer $tool (gateloop, tensor cores): rc=$? (${SECONDS}s)"
  LINSCOPE_GL_PAR=mma LINSCOPE_GL_SHAPE=256x32 timeout $(cap 30) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_gateloop_tc --gtest_filter='*GateLoopTcSmall*:*MatchesDefinition*' >"$OUT/sanitizer_gateloop_tc32_$tool.log" 2>&1
  echo "compute-sanitizer $tool (gateloop, tensor cores, mma.sync attention with 32-key tiles): rc=$? (${SECONDS}s)"
  timeout $(cap 45) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_lion --gtest_filter='*HandWorked*:Chunks/LionForms.*/4' >"$OUT/sanitizer_lion_$tool.log" 2>&1
  echo "compute-sanitizer $tool (lion): rc=$? (${SECONDS}s)"
  timeout $(cap 30) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_deltanet --gtest_filter='*HandWorked*:*ChunkwiseSmall*:*RecurrentSmall*:*ParallelAndAttention*:*TensorCoresSmall*:*DeltaPasses*' >"$OUT/sanitizer_deltanet_$tool.log" 2>&1
  echo "compute-sanitizer $tool (deltanet): rc=$? (${SECONDS}s)"
  timeout $(cap 30) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_lightnet --gtest_filter='*ExtremeWeights*:All/LnForms.*/0:All/LnForms.*/2:All/LnEncodings.*/2:All/LnEncodings.*/4:*PerChannelExtremes*' >"$OUT/sanitizer_lightnet_$tool.log" 2>&1
  echo "compute-sanitizer $tool (lightnet): rc=$? (${SECONDS}s)"
  timeout $(cap 30) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_lightnet_grid --gtest_filter='*SmallWithMatrix*:*RejectsBadInput*' >"$OUT/sanitizer_lightnet_grid_$tool.log" 2>&1
  echo "compute-sanitizer $tool (lightnet grid): rc=$? (${SECONDS}s)"
  timeout $(cap 30) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_trace --gtest_filter='*DeltaNetAndGateLoop*:*PerChannel*' >"$OUT/sanitizer_trace_$tool.log" 2>&1
  echo "compute-sanitizer $tool (trace): rc=$? (${SECONDS}s)"
  timeout $(cap 30) compute-sanitizer --tool $tool --error-exitcode 9 \
    ./$BUILD/tests/gpu_test_backend --gtest_filter='*PerChannelDecayEveryForm*' >"$OUT/sanitizer_backend_$tool.log" 2>&1
  echo "compute-sanitizer $tool (per-channel decay): rc=$? (${SECONDS}s)"
done
grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$OUT"/sanitizer_*.log  # racecheck prints the latter

if [ "${BENCH:-1}" != 0 ]; then
  set -o pipefail
  timeout $(cap ${BENCH_TIMEOUT:-300}) "${BENCH_CMD[@]}" "$@" 2>&1 | tee "$OUT/bench.log"
fi
exit $status
