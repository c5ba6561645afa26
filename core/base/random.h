// Seeded random tensors and the feature maps the papers apply to q and k. Used by the input
// generator and by tests; deterministic for a given seed on every platform (std::mt19937_64
// with our own normal sampler, since std::normal_distribution differs between libraries).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "core/base/tensor.h"

namespace linscope {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  double uniform();                                   // [0, 1)
  double normal(double mean = 0, double stddev = 1);  // Box–Muller, both halves used
 private:
  std::mt19937_64 engine_;
  double spare_ = 0;  // the sine half of the last Box–Muller pair, not yet returned
  bool has_spare_ = false;
};

Tensor random_normal(const std::vector<int64_t>& shape, Rng& rng, double mean = 0,
                     double stddev = 1);
Tensor random_uniform(const std::vector<int64_t>& shape, Rng& rng, double lo, double hi);

// LION's feature map on the last axis: φ(x) = (SiLU(x) + 0.5) / ||SiLU(x) + 0.5|| (MODELS.md §2),
// which keeps q^T k > 0 so the normalizer never vanishes.
void lion_feature_map(Tensor& t);
// Katharopoulos et al.'s φ(x) = elu(x) + 1, positive as well.
void elu_plus_one(Tensor& t);
// x / ||x|| over the last axis (DeltaNet keys; MODELS.md §4). Zero rows stay zero.
void l2_normalize_last(Tensor& t);
// log σ(x), computed without overflow for large |x|.
double log_sigmoid(double x);
double sigmoid(double x);

}  // namespace linscope
