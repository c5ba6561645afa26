// Launchers of the CUDA kernels, on device pointers, one head = one [L, D] slice of [B,H,L,D].
// Plain C++ declarations so the backend, the bench and the tests share one device pipeline.
//
// Conventions shared by every launcher:
//  - q, k [BH, L, Dk], v [BH, L, Dv], a [BH, L] = log λ_t (scalar decay per head and step).
//  - A [BH, L] (double) = cumulative log decay A_t = Σ_{m<=t} a_m (MODELS.md §1). Decay factors
//    are always exp(A_i - A_j) of a difference taken in double, then exponentiated in float:
//    never a product of λ's, never a division by a cumulative product. In float, A at
//    L = 16384, λ = 0.5 is ~1.1e4 with an ulp of ~1e-3, which would put a 1e-3 relative
//    error into every mask entry; in double the difference is exact to ~1e-12.
//  - "numerators" num [BH, L, Dc]: Dc = Dv, or Dv + 1 when the model normalizes. Column Dv
//    then carries the value 1 for every token, so the same kernels that compute q^T S_t compute
//    the normalizer q^T z_t (z_t is S_t's column for a value of 1).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace linscope::gpu {

struct Dims {
  int64_t BH = 1, L = 1, Dk = 1, Dv = 1;
};

// A[t] = Σ_{m<=t} a[m] per head, in double.
void cumulative_log(const float* a, double* A, const Dims& d, cudaStream_t s);
// The same per channel: a, A [BH, L, D] (per-channel decay, GateLoop's log-magnitudes, phases).
void cumulative_log_channels(const float* a, double* A, int64_t BH, int64_t L, int64_t D,
                             cudaStream_t s);
// out [rows, Dv + 1] = [v, 1]: values with the normalizer's column, for kernels without one.
void append_ones_column(const float* v, float* out, int64_t rows, int64_t Dv, cudaStream_t s);

// Causal recurrence S_t = λ_t S_{t-1} + k_t v_t^T, num_t = q_t^T S_t (MODELS.md §1, recurrent).
void la_recurrent(const float* q, const float* k, const float* v, const float* a, float* num,
                  const Dims& d, int64_t Dc, cudaStream_t s);

// Chunkwise, step 1: per chunk n, dS_n = Σ_{j in n} exp(A_end - A_j) k_j v_j^T
// ([BH, NC, Dk, Dc]).
// per_channel: A is [BH, L, Dk] (cumulative_log_channels) and row r decays by its own channel.
void la_chunk_states(const float* k, const float* v, const double* A, float* dS, const Dims& d,
                     int64_t Dc, int64_t C, cudaStream_t s, bool per_channel = false);
// Chunkwise, step 2: in place, dS_n becomes the state entering chunk n:
// S_0 = 0, S_{n+1} = exp(A_end(n) - A_end(n-1)) S_n + dS_n.
void la_chunk_scan(float* dS, const double* A, const Dims& d, int64_t Dc, int64_t C, cudaStream_t s,
                   bool per_channel = false);
// Masked attention inside blocks of C rows plus, when S_in is given, the carried state:
// num_i = Σ_{j in chunk(i), j<=i} (q_i·k_j) exp(A_i - A_j) v_j + exp(A_i - A_start) q_i^T S_in.
// With C = L and S_in = nullptr this is the parallel form; bidirectional (C = L only) uses
// M_ij = exp(-|A_i - A_j|) over all j (LION, MODELS.md §2). per_channel (causal only): A is
// [BH, L, Dk] and the score is Σ_r q_ir k_jr exp(A_ir − A_jr).
void la_block_attention(const float* q, const float* k, const float* v, const double* A,
                        const float* S_in, float* num, const Dims& d, int64_t Dc, int64_t C,
                        bool bidirectional, cudaStream_t s, bool per_channel = false);

// The implicit attention matrix att [BH, L, L] = (q_i·k_j) M_ij, scaled per row by 1 / num[i, Dv]
// when normalized (Dc = Dv + 1).
void attention_matrix(const float* q, const float* k, const double* A, const float* num, float* att,
                      const Dims& d, int64_t Dc, bool bidirectional, cudaStream_t s);

// y = num[:, :Dv] (/ num[:, Dv] when Dc = Dv + 1).
void finish_numerators(const float* num, float* y, const Dims& d, int64_t Dc, cudaStream_t s);

// LION helpers (gpu/lion.cu).
// dst[t] = src[L-1-t] per head, rows of D floats.
void reverse_rows(const float* src, float* dst, int64_t BH, int64_t L, int64_t D, cudaStream_t s);
// Decays of the backward sweep in reversed order: dst[s] = a[L-s] (s >= 1), dst[0] = 0, so that
// the reversed causal recurrence is S^B_t = λ_{t+1} S^B_{t+1} + k_t v_t^T (MODELS.md §2).
void reverse_shift_decay(const float* a, float* dst, int64_t BH, int64_t L, cudaStream_t s);
// The cumulative log decays of that reversed sequence from the forward ones A (both [BH, L],
// double): A_rev[s] = A[L-1] - A[L-1-s].
void reversed_cumulative(const double* A, double* A_rev, int64_t BH, int64_t L, cudaStream_t s);
// y_t = F_t + B_t - (q_t·k_t) v_t, divided by F_t[Dv] + B_t[Dv] - q_t·k_t when normalized
// (Dc = Dv + 1); B given in reversed order. qk_scratch: BH·L floats (q_t·k_t per token).
void lion_combine(const float* numF, const float* numB_rev, const float* q, const float* k,
                  const float* v, float* qk_scratch, float* y, const Dims& d, int64_t Dc,
                  cudaStream_t s);
// y [BH, L, Dv] = num / den row by row (den [BH, L]); y may be num.
void divide_rows(const float* num, const float* den, float* y, const Dims& d, cudaStream_t s);

// DeltaNet recurrence (gpu/deltanet_recurrent.cu): beta [BH, L], y [BH, L, Dv] written directly.
void deltanet_recurrent(const float* q, const float* k, const float* v, const float* beta, float* y,
                        const Dims& d, cudaStream_t s);

// DeltaNet chunkwise (WY/UT) in gpu/deltanet_chunkwise.cu: the chunk actually used (the requested
// one, at most 64, smaller when the tiles would not fit in shared memory), its workspace (the
// per-head state, [BH, Dk, Dv] fp32) and the launcher.
int64_t deltanet_chunk_size(const Dims& d, int64_t requested);
size_t deltanet_chunk_workspace(const Dims& d);
void deltanet_chunkwise(const float* q, const float* k, const float* v, const float* beta, float* y,
                        void* workspace, const Dims& d, int64_t chunk, cudaStream_t s);
// The same on the tensor cores (RunOptions::bf16), in gpu/deltanet_tc.cu: bf16 q16, k16
// [BH, L, Dk] and v16 [BH, L, Dv] (bits), fp32 beta. Supported: d_k in {16,32,64,128}, chunk a
// multiple of 16 up to 64 and at most L, the UT tiles in shared memory. Workspace: W16 and U.
bool deltanet_chunk_tc_supported(const Dims& d, int64_t chunk);
size_t deltanet_chunk_tc_workspace(const Dims& d);
void deltanet_chunk_tc(const void* q16, const void* k16, const void* v16, const float* beta,
                       float* y, void* workspace, const Dims& d, int64_t chunk, cudaStream_t s);
// Its two passes. The UT transform (gpu/deltanet_ut_tc.cu): w16 = W and u16 = U, both bf16
// [BH, L, Dk] and [BH, L, Dv]; its shared memory per block. The state pass (gpu/deltanet_tc.cu):
// y.
size_t deltanet_ut_tc_smem(const Dims& d);
void deltanet_ut_tc(const void* k16, const void* v16, const float* beta, void* w16, void* u16,
                    const Dims& d, int64_t chunk, cudaStream_t s);
void deltanet_state_tc(const void* q, const void* k, const void* w, const void* u, float* y,
                       const Dims& d, int64_t chunk, cudaStream_t s);
// The state pass without outputs, on mma.sync with the state in registers
// (gpu/deltanet_delta_tc.cu): Δ (bf16) written over u16 = U. Supported: d_k 64 or 128, d_v a
// multiple of 8, chunk <= 64; elsewhere the parallel form takes the WMMA pass of deltanet_tc.cu.
bool deltanet_delta_tc_supported(const Dims& d, int64_t chunk);
// beside_other_work: 64-column value tiles whatever the block count, for a pass that runs on a
// side stream under other kernels (fewer blocks leave more of each SM to them).
void deltanet_delta_tc(const void* k16, const void* w16, void* u16, const Dims& d, int64_t chunk,
                       cudaStream_t s, bool beside_other_work = false);
// DeltaNet's parallel form on the tensor cores (gpu/deltanet_tc.cu), RunOptions::bf16 without
// the matrix: y = tril(Q K^T) Δ, with Δ (the rows δ_t) from the UT transform and a state pass
// without outputs, then the parallel (L²) kernel of linear attention with no decay. Supported:
// L >= 16, d_k in {16,32,64,128}, d_v a multiple of 8.
bool deltanet_parallel_tc_supported(const Dims& d);
int64_t deltanet_parallel_tc_chunk(const Dims& d);  // the chunk of the pass that forms Δ
size_t deltanet_parallel_tc_workspace(const Dims& d);
void deltanet_parallel_tc(const void* q16, const void* k16, const void* v16, const float* beta,
                          float* y, void* workspace, const Dims& d, cudaStream_t s);

// GateLoop (gpu/gateloop.cu): lm = log|a_t|, ph = arg a_t, both [BH, L, Dk]; y [BH, L, Dv].
void gateloop_recurrent(const float* q, const float* k, const float* v, const float* lm,
                        const float* ph, float* y, const Dims& d, cudaStream_t s);
// Associative scan over segments of `seg` tokens (segment-parallel, then a scan of the carries,
// then the segments again from their carries). Workspace: gateloop_scan_workspace() bytes.
// The segment length for this shape; L when the heads alone fill the GPU (one segment: forward()
// then runs gateloop_recurrent, which is what a one-segment scan computes).
int64_t gateloop_scan_segment(const Dims& d);
size_t gateloop_scan_workspace(const Dims& d, int64_t seg);
void gateloop_scan(const float* q, const float* k, const float* v, const float* lm, const float* ph,
                   float* y, void* workspace, const Dims& d, int64_t seg, cudaStream_t s);
// The same scan blocked in chunks of 64 on the tensor cores (gpu/gateloop_scan_tc.cu): bf16 q, k,
// v; fp32 lm, ph, y. flag: one device int of scratch. Returns false, after synchronizing s, when
// a chunk's decay left the float exponent range the kernel needs (its header says which); y is
// then not the answer and the caller runs gateloop_scan.
bool gateloop_scan_tc_supported(const Dims& d);
bool gateloop_scan_tc(const void* q, const void* k, const void* v, const float* lm, const float* ph,
                      float* y, int* flag, const Dims& d, cudaStream_t s);
// The same on Hopper's warpgroup products (gpu/gateloop_scan_wgmma.cu), which gateloop_scan_tc
// runs where supported: an sm_90a build on a compute 9.0 device, d_k 64 or 128, d_v a multiple
// of 8 above 64; LINSCOPE_GL_SCAN=mma, =8 or =16 keeps the mma.sync kernel (for measuring). It
// raises *flag (cleared by the caller) where gateloop_scan_tc would.
bool gateloop_scan_wgmma_supported(const Dims& d);
void gateloop_scan_wgmma(const void* q, const void* k, const void* v, const float* lm,
                         const float* ph, float* y, int* flag, const Dims& d, cudaStream_t s);

// LightNet (gpu/lightnet.cu): from log weights f [BH, L] the inputs under which the
// linear-attention kernels compute LightNet exactly: log_decay [BH, L] (z_{t-1} − z_t causal, 0
// global), log_weight [BH, L] (f_t − z_t causal, f_t − z_L global) and k_scaled [BH, L, Dk].
// per_channel: f is [BH, L, Dk] and so is log_decay in the causal form (the global form's stays
// a scalar 0 per token); log_weight is not used (may be null).
void lightnet_inputs(const float* f, const float* k, float* log_decay, float* log_weight,
                     float* k_scaled, const Dims& d, bool global, bool per_channel, cudaStream_t s);

// LightNet's global form without the matrix: S_L = Σ_s k'_s v_s^T (k_scaled from
// lightnet_inputs with global = true), then y = Q S_L, as the CPU's one scan and readout.
size_t lightnet_global_workspace(const Dims& d);
void lightnet_global_readout(const float* q, const float* k_scaled, const float* v, float* y,
                             void* workspace, const Dims& d, cudaStream_t s);

// The tokens of one head for LightNet's encodings: a sequence of `width` tokens (axes = 1, the
// 1-D model) or a height × width grid numbered row-major (axes = 2, core/lightnet/grid.h).
struct TokenGrid {
  int axes = 1;
  int64_t height = 1, width = 1;
  int64_t size() const { return height * width; }
};
// MD-TPE (gpu/lightnet_position.cu; core/lightnet/position.h md_tpe_apply) in place on x
// [outer, n, C], each slice n = g.size() tokens of C channels: x ← x + T x, transposed
// x ← x + T^T x. With two axes `source` is scratch of x's size (every axis reads the unmixed x),
// with one it may be null. The attention matrix's factor A (I + T) is the transposed case on
// the rows of A: outer = rows, C = 1.
void lightnet_md_tpe(float* x, float* source, int64_t outer, const TokenGrid& g, int64_t C,
                     bool transposed, cudaStream_t s);
// MD-LRPE in place on x [outer, n, D]: channel pairs of token p rotated by its position.
void lightnet_md_lrpe(float* x, int64_t outer, const TokenGrid& g, int64_t D, cudaStream_t s);

// LightNet on a grid (gpu/lightnet_grid.cu): rows of x [n, C] into scan order,
// out[t] = x[order[t]], and back, out[order[t]] = x[t]; the matrix of the scan-ordered tokens
// back to pixel numbering, out[order[i], order[j]] = att[i, j] (att, out [n, n]).
void gather_rows(const float* x, const int64_t* order, float* out, int64_t n, int64_t C,
                 cudaStream_t s);
void scatter_rows(const float* x, const int64_t* order, float* out, int64_t n, int64_t C,
                  cudaStream_t s);
void scatter_square(const float* att, const int64_t* order, float* out, int64_t n, cudaStream_t s);

// GateLoop's surrogate attention (its parallel form): A [BH, L, L] causal scores, y = A v.
// att (may be null) receives A; workspace: gateloop_attention_workspace() bytes (it holds A
// when att is null).
size_t gateloop_attention_workspace(const Dims& d);
void gateloop_attention(const float* q, const float* k, const float* v, const float* lm,
                        const float* ph, float* y, float* att, void* workspace, const Dims& d,
                        cudaStream_t s);
// The same on the tensor cores, without the matrix (gpu/gateloop_attention_tc.cu): bf16 q, k, v;
// fp32 lm, ph, y; flag: one device int of scratch, as for gateloop_scan_tc. Returns false, after
// synchronizing s, when a 64-token tile's decay leaves the float range the kernel needs (its L²
// step then writes nothing); the caller then runs gateloop_attention.
bool gateloop_attention_tc_supported(const Dims& d);
size_t gateloop_attention_tc_workspace(const Dims& d);
bool gateloop_attention_tc(const void* q, const void* k, const void* v, const float* lm,
                           const float* ph, float* y, void* workspace, int* flag, const Dims& d,
                           cudaStream_t s);
// Its L² step on Hopper's warpgroup products (gpu/gateloop_attention_wgmma.cu), which
// gateloop_attention_tc runs where supported (an sm_90a build on a compute 9.0 device, d_k 64 or
// 128, d_v a multiple of 8; LINSCOPE_GL_PAR=mma turns it off, for measuring) on the operands it
// formed: qhat, khat [BH, L, 2 d_k] bf16 and bounds [BH, L / 16 + 1, d_k] (that file's header);
// it writes nothing when *flag is raised.
bool gateloop_attention_wgmma_supported(const Dims& d);
void gateloop_attention_wgmma(const void* qhat, const void* khat, const void* v,
                              const double* bounds, const int* flag, float* y, const Dims& d,
                              cudaStream_t s);

// y [BH, L, Dv] = A v for a causal score matrix A [BH, L, L] with zeros above the diagonal
// (gpu/causal_scores.cu).
void apply_causal_scores(const float* A, const float* v, float* y, const Dims& d, cudaStream_t s);
// att[i, :] /= num[i, Dv] (the row scaling of a normalized model; num [BH, L, Dv + 1]).
void normalize_score_rows(float* att, const float* num, const Dims& d, cudaStream_t s);

// DeltaNet's implicit attention matrix (gpu/deltanet_attention.cu; CPU twin core/deltanet/
// attention.cpp): att [BH, L, L], A_ij = β_j q_i^T H_i ⋯ H_{j+1} k_j for j <= i, 0 above.
void deltanet_attention(const float* q, const float* k, const float* beta, float* att,
                        const Dims& d, cudaStream_t s);

// Rounds to bfloat16 (nearest, ties to even) in place, as the CPU's RunOptions::bf16 does.
void round_bf16(float* x, int64_t n, cudaStream_t s);

// Tensor-core chunkwise form (gpu/linear_attention_tc.cu), RunOptions::bf16.
// fp32 -> bf16 (nearest, ties to even); y holds n bf16 values (2 bytes each).
void to_bf16(const float* x, void* y, int64_t n, cudaStream_t s);
// Whether la_chunk_tc handles this head dimension and chunk size (d_k in {16,32,64,128},
// chunk a multiple of 16 up to 64; any d_v, any L).
bool la_chunk_tc_supported(int64_t Dk, int64_t chunk);
// Causal chunkwise numerators from bf16 q, k [BH, L, Dk] and v [BH, L, Dv] (bf16 bits), A as
// above; out [BH, L, Dv] fp32 (= y when the model does not normalize); den [BH, L] (may be null)
// the normalizer q_t^T z_t. Throws BackendError when not supported.
void la_chunk_tc(const void* q, const void* k, const void* v, const double* A, float* out,
                 float* den, const Dims& d, int64_t chunk, cudaStream_t s);
// The parallel (L²) form on the tensor cores (gpu/linear_attention_parallel_tc.cu): causal
// linear attention, or bidirectional LION's mask when `bidirectional`; bf16 q, k, v as above, A
// the cumulative log decays, y [BH, L, Dv] fp32, divided by the row sums when `normalize`.
// Supported: d_k in {16, 32, 64, 128}, d_v a multiple of 8, L·max(d_k, d_v) < 2^31.
bool la_parallel_tc_supported(const Dims& d);
void la_parallel_tc(const void* q, const void* k, const void* v, const double* A, float* y,
                    const Dims& d, bool bidirectional, bool normalize, cudaStream_t s);
// The same form on Hopper's warpgroup products (gpu/linear_attention_parallel_wgmma.cu), which
// la_parallel_tc runs where supported: an sm_90a build on a compute 9.0 device, d_k 64 or 128,
// d_v a multiple of 8 (LINSCOPE_LA_PAR=mma turns it off, for measuring).
bool la_parallel_wgmma_supported(const Dims& d);
void la_parallel_wgmma(const void* q, const void* k, const void* v, const double* A, float* y,
                       const Dims& d, bool bidirectional, bool normalize, cudaStream_t s);
// The causal normalized model's output y = numerators / normalizers (den: scratch [BH, L], not
// needed where the kernel divides in place).
void la_chunk_tc_normalized(const void* q, const void* k, const void* v, const double* A, float* y,
                            float* den, const Dims& d, int64_t chunk, cudaStream_t s);
// The three through mma.sync (gpu/linear_attention_chunk_mma.cu), which the launchers above run
// when it applies: chunk 64, d_k 64 or 128, d_v a multiple of 8. Arguments as theirs.
enum class MmaSweep { kNumerators, kNormalized, kLionBackward };
bool la_chunk_mma_supported(const Dims& d, int64_t chunk);
void la_chunk_mma(const void* q, const void* k, const void* v, const double* A, float* y,
                  float* den, const Dims& d, MmaSweep sweep, cudaStream_t s);
// Bidirectional LION's backward sweep on the same bf16 q, k, v (read backwards; A_rev the
// cumulative reverse-shifted decays, reversed_cumulative), fused with the combine: y holds the
// forward sweep's numerators from la_chunk_tc and den its normalizers (null: not normalized);
// y becomes LION's output.
void lion_backward_tc(const void* q, const void* k, const void* v, const double* A_rev, float* y,
                      const float* den, const Dims& d, int64_t chunk, cudaStream_t s);

}  // namespace linscope::gpu
