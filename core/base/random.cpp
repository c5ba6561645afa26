#include "core/base/random.h"

#include <cmath>

namespace linscope {

double Rng::uniform() {
  // 53 random bits -> [0, 1)
  return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0);
}

double Rng::normal(double mean, double stddev) {
  // One pair of uniforms gives two independent standard normals (r cos θ, r sin θ); keeping the
  // second halves the cost of the generator, which the explorer pays on every change.
  if (has_spare_) {
    has_spare_ = false;
    return mean + stddev * spare_;
  }
  double u1 = uniform();
  while (u1 <= 1e-300) u1 = uniform();
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1)), theta = 2.0 * M_PI * u2;
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return mean + stddev * r * std::cos(theta);
}

Tensor random_normal(const std::vector<int64_t>& shape, Rng& rng, double mean, double stddev) {
  Tensor t(shape);
  for (auto& x : t.values()) x = static_cast<float>(rng.normal(mean, stddev));
  return t;
}

Tensor random_uniform(const std::vector<int64_t>& shape, Rng& rng, double lo, double hi) {
  Tensor t(shape);
  for (auto& x : t.values()) x = static_cast<float>(lo + (hi - lo) * rng.uniform());
  return t;
}

namespace {
template <typename F>
void for_each_row(Tensor& t, F&& f) {
  const int64_t d = t.dim(-1);
  for (int64_t r = 0; r < t.numel() / d; ++r) f(t.data() + r * d, d);
}
}  // namespace

void lion_feature_map(Tensor& t) {
  for_each_row(t, [](float* x, int64_t d) {
    double norm = 0;
    for (int64_t i = 0; i < d; ++i) {
      const double s = x[i] / (1.0 + std::exp(-static_cast<double>(x[i]))) + 0.5;
      x[i] = static_cast<float>(s);
      norm += s * s;
    }
    norm = std::sqrt(norm);
    for (int64_t i = 0; i < d; ++i) x[i] = static_cast<float>(x[i] / norm);
  });
}

void elu_plus_one(Tensor& t) {
  for (auto& x : t.values()) x = x > 0 ? x + 1.0f : std::exp(x);
}

void l2_normalize_last(Tensor& t) {
  for_each_row(t, [](float* x, int64_t d) {
    double norm = 0;
    for (int64_t i = 0; i < d; ++i) norm += static_cast<double>(x[i]) * x[i];
    norm = std::sqrt(norm);
    if (norm == 0) return;
    for (int64_t i = 0; i < d; ++i) x[i] = static_cast<float>(x[i] / norm);
  });
}

double log_sigmoid(double x) {
  return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));
}
double sigmoid(double x) {
  return std::exp(log_sigmoid(x));
}

}  // namespace linscope
