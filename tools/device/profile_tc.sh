#!/bin/bash
# One device call: build the CUDA backend and tools/device/bench_tc.cpp, then profile one launch
# of the tensor-core chunkwise kernel with Nsight Compute (where its time goes: stall reasons,
# occupancy, and the per-line stall samples of the source page). Logs to $OUT.
#   usage: tools/device/profile_tc.sh [L]   (default 4096; KERNEL=regex overrides the kernel)
set -u
OUT=${OUT:-/tmp/linscope-out}
mkdir -p "$OUT"
D=$PWD/.devdeps
BUILD=build-dev
L=${1:-4096}
cmake -S . -B $BUILD -G Ninja -DLINSCOPE_GUI=OFF -DLINSCOPE_CUDA=ON -DLINSCOPE_BENCH=OFF \
  -DCMAKE_CUDA_ARCHITECTURES=90a -DCMAKE_PREFIX_PATH="$D" -DEigen3_DIR="$D/share/eigen3/cmake" \
  -Dnlohmann_json_DIR="$D/share/cmake/nlohmann_json" -DLINSCOPE_GTEST_SOURCE_DIR="$D/googletest" \
  >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
cmake --build $BUILD -j16 --target linscope_gpu >>"$OUT/build.log" 2>&1 || { grep -E "error" -A3 "$OUT/build.log" | head -40; exit 1; }
g++ -std=c++20 -O2 -I. -I/usr/local/cuda/include tools/device/bench_tc.cpp \
  $BUILD/gpu/liblinscope_gpu.a $BUILD/core/liblinscope_lightnet.a $BUILD/core/liblinscope_base.a -L/usr/local/cuda/lib64 -lcudart \
  -lcublas -fopenmp -o $BUILD/bench-tc >>"$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
echo "build: ok (${SECONDS}s)"
ncu --kernel-name "regex:${KERNEL:-la_chunk_tc}" --launch-skip 3 --launch-count 1 \
  --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats \
  --section SchedulerStats --section MemoryWorkloadAnalysis --section SourceCounters \
  --import-source yes -o "$OUT/tc" ./$BUILD/bench-tc "$L" >"$OUT/ncu_run.log" 2>&1
echo "ncu: rc=$? (${SECONDS}s)"
ncu -i "$OUT/tc.ncu-rep" --page details >"$OUT/ncu_details.txt" 2>&1
ncu -i "$OUT/tc.ncu-rep" --page source --csv --print-source cuda >"$OUT/ncu_source.csv" 2>"$OUT/ncu_source.err"
echo "source page: rc=$? $(wc -l <"$OUT/ncu_source.csv") lines"
