// DeltaNet's implicit attention matrix (MODELS.md §4): Y = A V with
//   A_ij = β_j q_i^T E_{i,j} k_j,   E_{i,j} = H_i H_{i−1} ⋯ H_{j+1},   H_m = I − β_m k_m k_m^T.
// The one-chunk WY form A = (Q K^T ⊙ causal) T needs the L x L triangular T: O(L^3). Chunked
// with size C it is O(L^2 Dk), all of it in GEMMs. For i in chunk n and j in an earlier chunk
// m, E_{i,j} splits at the chunk boundaries:
//   A[n,m] = Q̃_n G_{n−1} ⋯ G_{m+1} K_m^T T_m,
// with, per chunk (T_m = UT transform, W_m = T_m K_m, as in chunkwise.cpp):
//   Q̃_n = Q_n − (Q_n K_n^T ⊙ causal) W_n   row i: q_i^T through the factors of chunk n up to i;
//   G_m = I − K_m^T W_m                    the product of chunk m's H factors;
//   K_m^T T_m                              column j: β_j through chunk m's factors after j.
// These are the chunkwise form's maps with V = 0 (Q̃ is its "Q S − P W S" term) and S_0 = 0
// (K^T T V is the state one chunk leaves). Diagonal blocks: A[n,n] = (Q_n K_n^T ⊙ causal) T_n.
// For each row chunk n, Z = Q̃_n walks back over the chunks, Z ← Z G_m = Z − (Z K_m^T) W_m,
// never forming a Dk x Dk product: 3 C^2 Dk per block, 1.5 L^2 Dk in all.
#include <algorithm>
#include <vector>

#include "core/base/row_blocks.h"
#include "core/deltanet/detail.h"

namespace linscope::deltanet::detail {

namespace {
constexpr int64_t kChunk = 64;

struct ChunkFactors {
  RowMatrix W;    // T K (len x Dk)
  RowMatrix KtT;  // K^T T (Dk x len)
  RowMatrix Qt;   // Q̃ (len x Dk)
  RowMatrix Kt;   // K^T (Dk x len), for Z K^T
  RowMatrix P;    // Q K^T ⊙ causal incl. diagonal (len x len)
  RowMatrix T;    // UT transform (len x len)
};
}  // namespace

RowMatrix attention_matrix(const ConstMatrixView& q, const ConstMatrixView& k,
                           const ConstVectorView& beta) {
  const int64_t L = q.rows();
  const int64_t chunks = (L + kChunk - 1) / kChunk;
  std::vector<ChunkFactors> f(static_cast<size_t>(chunks));
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t n = 0; n < chunks; ++n) {
    const int64_t s0 = n * kChunk, len = std::min(kChunk, L - s0);
    const auto Q = q.middleRows(s0, len);
    const auto K = k.middleRows(s0, len);
    ChunkFactors& c = f[size_t(n)];
    c.T = ut_transform(K, beta.segment(s0, len));
    c.W.noalias() = c.T * K;
    c.Kt = K.transpose();
    c.KtT.noalias() = c.Kt * c.T;
    c.P.noalias() = Q * c.Kt;
    c.P.triangularView<Eigen::StrictlyUpper>().setZero();
    c.Qt = Q;
    c.Qt.noalias() -= c.P * c.W;
  }
  RowMatrix A = RowMatrix::Zero(L, L);
  for_each_row_block(L, kChunk, [&](int64_t s0, int64_t len) {
    const int64_t n = s0 / kChunk;
    const ChunkFactors& c = f[size_t(n)];
    A.block(s0, s0, len, len).noalias() = c.P * c.T;
    RowMatrix Z = c.Qt, ZK;
    for (int64_t m = n - 1; m >= 0; --m) {
      const ChunkFactors& cm = f[size_t(m)];
      A.block(s0, m * kChunk, len, kChunk).noalias() = Z * cm.KtT;
      if (m == 0) break;
      ZK.noalias() = Z * cm.Kt;  // Z G_m = Z − (Z K_m^T) W_m
      Z.noalias() -= ZK * cm.W;
    }
  });
  return A;
}

}  // namespace linscope::deltanet::detail
