// GateLoop (MODELS.md §3, GateLoop arXiv 2311.01927 eq. 1-4) on the CUDA backend, fp32:
// S_t = diag(a_t) S_{t-1} + k_t v_t^T with a complex diagonal a_t = exp(log_magnitude_t +
// i phase_t), y_t = Re(q_t^H S_t) = q_t^T Re(S_t) (q real). CPU twin: core/gateloop/.
//
// Every (channel c, value column) entry of S is its own scalar complex recurrence
// h_t = a_tc h_{t-1} + k_tc v_t, so
//  - the recurrent form gives one thread per (channel rows, value column) and walks L;
//  - the associative scan runs that recurrence over segments of L in parallel: (1) each
//    segment from a zero state, keeping its end state e_p; (2) a scan of the carries over the
//    segments, c_{p+1} = (Π_{t in p} a_t) c_p + e_p — the operator (a1,b1)∘(a2,b2) =
//    (a2 a1, a2 b1 + b2) of MODELS.md §3 applied segment-wise; (3) each segment again from its
//    carry c_p, now writing y. Segment products Π a_t are formed in log-polar form from sums of
//    log-magnitudes and phases in double, never as running products of complex numbers.
#include <algorithm>
#include <string>

#include "gpu/cuda_check.h"
#include "gpu/kernels.h"

namespace linscope::gpu {
namespace {

constexpr int kGlWarps = 8;
constexpr int kGlTile = 16;

// Block = (32 value columns, segment, head). Warp w holds channel rows wR .. wR+R-1 of those
// columns (Re and Im) in registers. carry_in/carry_out [BH, P, Dk, Dv, 2] or null; y or null.
template <int R>
__global__ void __launch_bounds__(kGlWarps * 32)
    gl_recurrent_kernel(const float* __restrict__ q, const float* __restrict__ k,
                        const float* __restrict__ v, const float* __restrict__ lm,
                        const float* __restrict__ ph, const float* __restrict__ carry_in,
                        float* __restrict__ carry_out, float* __restrict__ y, int64_t L, int64_t Dk,
                        int64_t Dv, int64_t seg) {
  extern __shared__ float smem[];
  float* qs = smem;                 // [T][Dk]
  float* ks = qs + kGlTile * Dk;    // [T][Dk]
  float* ar = ks + kGlTile * Dk;    // [T][Dk] Re a_t
  float* ai = ar + kGlTile * Dk;    // [T][Dk] Im a_t
  float* vs = ai + kGlTile * Dk;    // [T][32]
  float* part = vs + kGlTile * 32;  // [W][T][32]
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t head = blockIdx.z, p = blockIdx.y, P = gridDim.y;
  const int64_t col = static_cast<int64_t>(blockIdx.x) * 32 + lane;
  const int64_t t_begin = p * seg, t_end = min(L, t_begin + seg);
  const float* qh = q + head * L * Dk;
  const float* kh = k + head * L * Dk;
  const float* lmh = lm + head * L * Dk;
  const float* phh = ph + head * L * Dk;
  const float* vh = v + head * L * Dv;
  const int64_t carry_base = (head * P + p) * Dk * Dv;
  float re[R], im[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int64_t row = warp * R + r;
    re[r] = im[r] = 0.f;
    if (carry_in && row < Dk && col < Dv) {
      re[r] = carry_in[2 * (carry_base + row * Dv + col)];
      im[r] = carry_in[2 * (carry_base + row * Dv + col) + 1];
    }
  }
  for (int64_t t0 = t_begin; t0 < t_end; t0 += kGlTile) {
    const int T = static_cast<int>(min(static_cast<int64_t>(kGlTile), t_end - t0));
    for (int64_t e = threadIdx.x; e < T * Dk; e += blockDim.x) {
      const int64_t g = t0 * Dk + e;
      qs[e] = qh[g];
      ks[e] = kh[g];
      // a_t from this step's log-magnitude and phase alone (no running product).
      float s, c;
      sincosf(phh[g], &s, &c);
      const float m = expf(lmh[g]);
      ar[e] = m * c;
      ai[e] = m * s;
    }
    for (int e = threadIdx.x; e < T * 32; e += blockDim.x) {
      const int64_t cc = static_cast<int64_t>(blockIdx.x) * 32 + (e & 31);
      vs[e] = cc < Dv ? vh[(t0 + (e >> 5)) * Dv + cc] : 0.f;
    }
    __syncthreads();
    for (int t = 0; t < T; ++t) {
      const float vt = vs[t * 32 + lane];
      float acc = 0.f;
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const int64_t row = warp * R + r;
        if (row < Dk) {
          const int64_t e = t * Dk + row;
          const float a_r = ar[e], a_i = ai[e];
          const float nr = fmaf(a_r, re[r], fmaf(-a_i, im[r], ks[e] * vt));
          im[r] = fmaf(a_r, im[r], a_i * re[r]);
          re[r] = nr;
          acc = fmaf(qs[e], nr, acc);
        }
      }
      part[(warp * kGlTile + t) * 32 + lane] = acc;
    }
    __syncthreads();
    if (y) {
      for (int e = threadIdx.x; e < T * 32; e += blockDim.x) {
        const int t = e >> 5, l = e & 31;
        const int64_t cc = static_cast<int64_t>(blockIdx.x) * 32 + l;
        float sum = 0.f;
#pragma unroll
        for (int w = 0; w < kGlWarps; ++w) sum += part[(w * kGlTile + t) * 32 + l];
        if (cc < Dv) y[(head * L + t0 + t) * Dv + cc] = sum;
      }
    }
    __syncthreads();
  }
  if (carry_out && col < Dv) {
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int64_t row = warp * R + r;
      if (row < Dk) {
        carry_out[2 * (carry_base + row * Dv + col)] = re[r];
        carry_out[2 * (carry_base + row * Dv + col) + 1] = im[r];
      }
    }
  }
}

// Per (head, segment, channel): Σ log|a| and Σ phase over the segment, in double.
__global__ void gl_segment_totals_kernel(const float* __restrict__ lm, const float* __restrict__ ph,
                                         double* __restrict__ tot, int64_t L, int64_t Dk,
                                         int64_t seg) {
  const int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (c >= Dk) return;
  const int64_t head = blockIdx.z, p = blockIdx.y, P = gridDim.y;
  const int64_t t_begin = p * seg, t_end = min(L, t_begin + seg);
  double sl = 0, sp = 0;
  for (int64_t t = t_begin; t < t_end; ++t) {
    sl += lm[(head * L + t) * Dk + c];
    sp += ph[(head * L + t) * Dk + c];
  }
  tot[2 * ((head * P + p) * Dk + c)] = sl;
  tot[2 * ((head * P + p) * Dk + c) + 1] = sp;
}

// In place over [BH, P, Dk, Dv, 2]: segment end states (from zero) become the carries entering
// each segment. One thread per (head, channel, column), P sequential steps.
__global__ void gl_carry_scan_kernel(float* __restrict__ carry, const double* __restrict__ tot,
                                     int64_t Dk, int64_t Dv, int64_t P) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= Dk * Dv) return;
  const int64_t head = blockIdx.y, c = e / Dv;
  float cr = 0.f, ci = 0.f;
  for (int64_t p = 0; p < P; ++p) {
    float* slot = carry + 2 * ((head * P + p) * Dk * Dv + e);
    const float er = slot[0], ei = slot[1];
    slot[0] = cr;
    slot[1] = ci;
    const double* t = tot + 2 * ((head * P + p) * Dk + c);
    const double m = exp(t[0]);
    const float sr = static_cast<float>(m * cos(t[1])), si = static_cast<float>(m * sin(t[1]));
    const float nr = sr * cr - si * ci + er;
    ci = sr * ci + si * cr + ei;
    cr = nr;
  }
}

template <int R>
void launch_gl(const float* q, const float* k, const float* v, const float* lm, const float* ph,
               const float* carry_in, float* carry_out, float* y, const Dims& d, int64_t seg,
               int64_t P, cudaStream_t s) {
  const size_t bytes =
      sizeof(float) * (4 * kGlTile * d.Dk + kGlTile * 32 + kGlWarps * kGlTile * 32);
  check(cudaFuncSetAttribute(gl_recurrent_kernel<R>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(bytes)),
        "cudaFuncSetAttribute(gl_recurrent)");
  const dim3 grid(static_cast<unsigned>((d.Dv + 31) / 32), static_cast<unsigned>(P),
                  static_cast<unsigned>(d.BH));
  gl_recurrent_kernel<R><<<grid, kGlWarps * 32, bytes, s>>>(q, k, v, lm, ph, carry_in, carry_out, y,
                                                            d.L, d.Dk, d.Dv, seg);
  check_launch("gl_recurrent_kernel");
}

void launch_gl_any(const float* q, const float* k, const float* v, const float* lm, const float* ph,
                   const float* carry_in, float* carry_out, float* y, const Dims& d, int64_t seg,
                   int64_t P, cudaStream_t s) {
  const int64_t R = (d.Dk + kGlWarps - 1) / kGlWarps;
  if (R <= 1) return launch_gl<1>(q, k, v, lm, ph, carry_in, carry_out, y, d, seg, P, s);
  if (R <= 2) return launch_gl<2>(q, k, v, lm, ph, carry_in, carry_out, y, d, seg, P, s);
  if (R <= 4) return launch_gl<4>(q, k, v, lm, ph, carry_in, carry_out, y, d, seg, P, s);
  if (R <= 8) return launch_gl<8>(q, k, v, lm, ph, carry_in, carry_out, y, d, seg, P, s);
  if (R <= 16) return launch_gl<16>(q, k, v, lm, ph, carry_in, carry_out, y, d, seg, P, s);
  if (R <= 32) return launch_gl<32>(q, k, v, lm, ph, carry_in, carry_out, y, d, seg, P, s);
  throw BackendError("GateLoop kernels support d_k <= 256, got " + std::to_string(d.Dk));
}

// Surrogate attention (GateLoop §3.2; CPU twin core/gateloop/parallel.cpp): the cumulative
// log-magnitudes Λ and phases Φ per channel in double, cos Φ and sin Φ once per token and channel,
// the causal score matrix A_ij = Σ_c q_ic k_jc exp(Λ_ic − Λ_jc) cos(Φ_ic − Φ_jc) for j <= i, then
// y = A v. A 16 x 16 tile of scores per block, channels in slices of kSaSlice:
//  - tiles wholly below the diagonal factor each term around the tile's first row r0, which lies
//    between the keys and the rows: exp(Λ_i − Λ_r0) · exp(Λ_r0 − Λ_j), both <= 1 (|a| <= 1), and
//    cos(Φ_i − Φ_j) = cos Φ_i cos Φ_j + sin Φ_i sin Φ_j, so a slice is two fp32 dot products of
//    rows scaled once per tile (no exponential per entry);
//  - the diagonal tile takes each term from a difference of logs in double (<= 0: never a ratio
//    of products), as rows and keys there share no point in between.
constexpr int kSaTile = 16;  // 16 x 16 scores per block, channels in slices of kSaSlice
constexpr int kSaSlice = 32;

__global__ void gl_cos_sin_kernel(const double* __restrict__ phase, float* __restrict__ cs,
                                  float* __restrict__ sn, int64_t n) {
  const int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (e >= n) return;
  double s, c;
  sincos(phase[e], &s, &c);
  cs[e] = static_cast<float>(c);
  sn[e] = static_cast<float>(s);
}

__global__ void __launch_bounds__(kSaTile* kSaTile)
    gl_scores_kernel(const float* __restrict__ q, const float* __restrict__ k,
                     const double* __restrict__ cum_lm, const double* __restrict__ cum_ph,
                     const float* __restrict__ cs, const float* __restrict__ sn,
                     float* __restrict__ A, int64_t L, int64_t Dk) {
  const int64_t head = blockIdx.z;
  const int64_t i0 = static_cast<int64_t>(blockIdx.y) * kSaTile;
  const int64_t j0 = static_cast<int64_t>(blockIdx.x) * kSaTile;
  const int ti = threadIdx.x / kSaTile, tj = threadIdx.x % kSaTile;
  const int64_t i = i0 + ti, j = j0 + tj;
  float* Ah = A + head * L * L;
  if (j0 > i0) {  // the whole tile is above the diagonal: zeros
    if (i < L && j < L) Ah[i * L + j] = 0.0f;
    return;
  }
  double acc = 0.0;
  if (j0 < i0) {
    // Below the diagonal: every key precedes row i0, every row follows it.
    __shared__ float qc[kSaTile][kSaSlice + 1], qs[kSaTile][kSaSlice + 1];
    __shared__ float kc[kSaTile][kSaSlice + 1], ks[kSaTile][kSaSlice + 1];
    const double* ref = cum_lm + (head * L + i0) * Dk;
    for (int64_t c0 = 0; c0 < Dk; c0 += kSaSlice) {
      for (int e = threadIdx.x; e < kSaTile * kSaSlice; e += blockDim.x) {
        const int r = e / kSaSlice, c = e % kSaSlice;
        const int64_t gi = i0 + r, gj = j0 + r, gc = c0 + c;
        float a = 0.f, b = 0.f, x = 0.f, y = 0.f;
        if (gc < Dk) {
          if (gi < L) {
            const int64_t at = (head * L + gi) * Dk + gc;
            const float f = q[at] * expf(static_cast<float>(cum_lm[at] - ref[gc]));
            a = f * cs[at], b = f * sn[at];
          }
          const int64_t at = (head * L + gj) * Dk + gc;  // gj < i0 < L
          const float f = k[at] * expf(static_cast<float>(ref[gc] - cum_lm[at]));
          x = f * cs[at], y = f * sn[at];
        }
        qc[r][c] = a, qs[r][c] = b, kc[r][c] = x, ks[r][c] = y;
      }
      __syncthreads();
      float part = 0.f;
#pragma unroll 8
      for (int c = 0; c < kSaSlice; ++c)
        part = fmaf(qc[ti][c], kc[tj][c], fmaf(qs[ti][c], ks[tj][c], part));
      acc += part;
      __syncthreads();
    }
  } else {
    __shared__ float sq[kSaTile][kSaSlice], sk[kSaTile][kSaSlice];
    __shared__ double sli[kSaTile][kSaSlice], spi[kSaTile][kSaSlice];
    __shared__ double slj[kSaTile][kSaSlice], spj[kSaTile][kSaSlice];
    for (int64_t c0 = 0; c0 < Dk; c0 += kSaSlice) {
      for (int e = threadIdx.x; e < kSaTile * kSaSlice; e += blockDim.x) {
        const int r = e / kSaSlice, c = e % kSaSlice;
        const int64_t gi = i0 + r, gj = j0 + r, gc = c0 + c;
        const bool okc = gc < Dk;
        const int64_t ai = (head * L + gi) * Dk + gc, aj = (head * L + gj) * Dk + gc;
        sq[r][c] = okc && gi < L ? q[ai] : 0.0f;
        sli[r][c] = okc && gi < L ? cum_lm[ai] : 0.0;
        spi[r][c] = okc && gi < L ? cum_ph[ai] : 0.0;
        sk[r][c] = okc && gj < L ? k[aj] : 0.0f;
        slj[r][c] = okc && gj < L ? cum_lm[aj] : 0.0;
        spj[r][c] = okc && gj < L ? cum_ph[aj] : 0.0;
      }
      __syncthreads();
      if (i < L && j <= i) {
        const int n = static_cast<int>(Dk - c0 < kSaSlice ? Dk - c0 : kSaSlice);
        for (int c = 0; c < n; ++c) {
          const double dl = sli[ti][c] - slj[tj][c];  // <= 0: |Π a| <= 1
          if (dl < -104.0) continue;                  // below float's range: exactly 0
          acc +=
              static_cast<double>(sq[ti][c]) * sk[tj][c] * exp(dl) * cos(spi[ti][c] - spj[tj][c]);
        }
      }
      __syncthreads();
    }
  }
  if (i < L && j < L) Ah[i * L + j] = j <= i ? static_cast<float>(acc) : 0.0f;
}

}  // namespace

size_t gateloop_attention_workspace(const Dims& d) {
  return sizeof(double) * 2 * d.BH * d.L * d.Dk + sizeof(float) * 2 * d.BH * d.L * d.Dk +
         sizeof(float) * d.BH * d.L * d.L;
}

void gateloop_attention(const float* q, const float* k, const float* v, const float* lm,
                        const float* ph, float* y, float* att, void* workspace, const Dims& d,
                        cudaStream_t s) {
  if (d.L > 65535 * static_cast<int64_t>(kSaTile))
    throw BackendError("GateLoop surrogate attention: L too long for the score grid");
  const int64_t n = d.BH * d.L * d.Dk;
  double* cum_lm = static_cast<double*>(workspace);
  double* cum_ph = cum_lm + n;
  float* cs = reinterpret_cast<float*>(cum_ph + n);
  float* sn = cs + n;
  float* A = att ? att : sn + n;
  cumulative_log_channels(lm, cum_lm, d.BH, d.L, d.Dk, s);
  cumulative_log_channels(ph, cum_ph, d.BH, d.L, d.Dk, s);
  gl_cos_sin_kernel<<<static_cast<unsigned>((n + 255) / 256), 256, 0, s>>>(cum_ph, cs, sn, n);
  check_launch("gl_cos_sin_kernel");
  const unsigned tiles = static_cast<unsigned>((d.L + kSaTile - 1) / kSaTile);
  gl_scores_kernel<<<dim3(tiles, tiles, static_cast<unsigned>(d.BH)), kSaTile * kSaTile, 0, s>>>(
      q, k, cum_lm, cum_ph, cs, sn, A, d.L, d.Dk);
  check_launch("gl_scores_kernel");
  apply_causal_scores(A, v, y, d, s);
}

void gateloop_recurrent(const float* q, const float* k, const float* v, const float* lm,
                        const float* ph, float* y, const Dims& d, cudaStream_t s) {
  launch_gl_any(q, k, v, lm, ph, nullptr, nullptr, y, d, d.L, 1, s);
}

int64_t gateloop_scan_segment(const Dims& d) {
  // Splitting L pays only while heads x column blocks leave SMs idle: the scan then does the
  // recurrence's work twice (end states, then outputs) plus the carry scan. Measured on the
  // H100 at B·H = 128 (docs/performance.md): with 512 blocks (d = 128) four segments took 55.5
  // ms against the plain recurrence's 29.7, with 256 blocks (d = 64) eight took 14.5 against
  // 11.9. So once every SM has a block, one segment (= L: the recurrence itself); below that,
  // about 2048 blocks in all, but no segment shorter than 16 tokens.
  const int64_t col_blocks = (d.Dv + 31) / 32;
  static const int sms = [] {
    int n = 0;
    if (cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, 0) != cudaSuccess) {
      cudaGetLastError();
      n = 0;
    }
    return n;
  }();
  if (sms > 0 && d.BH * col_blocks >= sms) return d.L;
  const int64_t want = std::max<int64_t>(1, (2048 + d.BH * col_blocks - 1) / (d.BH * col_blocks));
  return std::max<int64_t>(16, (d.L + want - 1) / want);
}

size_t gateloop_scan_workspace(const Dims& d, int64_t seg) {
  const int64_t P = (d.L + seg - 1) / seg;
  return sizeof(float) * 2 * d.BH * P * d.Dk * d.Dv + sizeof(double) * 2 * d.BH * P * d.Dk;
}

void gateloop_scan(const float* q, const float* k, const float* v, const float* lm, const float* ph,
                   float* y, void* workspace, const Dims& d, int64_t seg, cudaStream_t s) {
  const int64_t P = (d.L + seg - 1) / seg;
  float* carry = static_cast<float*>(workspace);
  double* tot = reinterpret_cast<double*>(carry + 2 * d.BH * P * d.Dk * d.Dv);
  launch_gl_any(q, k, v, lm, ph, nullptr, carry, nullptr, d, seg, P, s);  // (1) end states
  const dim3 tgrid(static_cast<unsigned>((d.Dk + 127) / 128), static_cast<unsigned>(P),
                   static_cast<unsigned>(d.BH));
  gl_segment_totals_kernel<<<tgrid, 128, 0, s>>>(lm, ph, tot, d.L, d.Dk, seg);
  check_launch("gl_segment_totals_kernel");
  const dim3 cgrid(static_cast<unsigned>((d.Dk * d.Dv + 255) / 256), static_cast<unsigned>(d.BH));
  gl_carry_scan_kernel<<<cgrid, 256, 0, s>>>(carry, tot, d.Dk, d.Dv, P);  // (2) carries
  check_launch("gl_carry_scan_kernel");
  launch_gl_any(q, k, v, lm, ph, carry, nullptr, y, d, seg, P, s);  // (3) outputs
}

}  // namespace linscope::gpu
