#include "core/lightnet/grid.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/base/error.h"
#include "core/base/random.h"
#include "core/lightnet/position.h"

namespace linscope::lightnet {
namespace {

std::vector<int64_t> position_of(const Grid& g, int64_t p) {
  return {p / g.width, p % g.width};
}

void check_inputs(const GridInputs& in) {
  const int64_t n = in.grid.size();
  if (in.grid.height < 1 || in.grid.width < 1) throw Error("grid: height and width must be >= 1");
  if (in.q.rows() != n || in.k.rows() != n || in.v.rows() != n || in.log_weight.size() != n)
    throw Error("grid inputs: q, k, v and log_weight need one row per pixel (" + std::to_string(n) +
                "), got q " + std::to_string(in.q.rows()) + ", k " + std::to_string(in.k.rows()) +
                ", v " + std::to_string(in.v.rows()) + ", log_weight " +
                std::to_string(in.log_weight.size()));
  if (in.q.cols() != in.k.cols()) throw Error("grid inputs: q and k differ in width");
  if (!in.log_weight.allFinite()) throw Error("grid inputs: log_weight holds a non-finite value");
}

void check_order(const std::vector<int64_t>& order, int64_t n) {
  std::vector<char> seen(static_cast<size_t>(n), 0);
  bool ok = static_cast<int64_t>(order.size()) == n;
  for (int64_t p : order) {
    if (!ok || p < 0 || p >= n || seen[static_cast<size_t>(p)]) {
      ok = false;
      break;
    }
    seen[static_cast<size_t>(p)] = 1;
  }
  if (!ok)
    throw Error("scan order: expected a permutation of the " + std::to_string(n) + " pixels");
}

// The encodings in the paper's order: MD-TPE on the token features (q, k, v ← (I + T) ·),
// then MD-LRPE on q and k (rotation by each pixel's 2-D position).
void encode(const GridInputs& in, const LightNetSettings& st, RowMatrix& q, RowMatrix& k,
            RowMatrix& v) {
  q = in.q;
  k = in.k;
  v = in.v;
  const std::vector<int64_t> extents{in.grid.height, in.grid.width};
  if (st.md_tpe)
    for (RowMatrix* u : {&q, &k, &v}) md_tpe_apply(*u, extents);
  if (!st.md_lrpe) return;
  for (int64_t p = 0; p < in.grid.size(); ++p) {
    const auto pos = position_of(in.grid, p);
    md_lrpe_rotate(q.row(p).data(), q.cols(), pos);
    md_lrpe_rotate(k.row(p).data(), k.cols(), pos);
  }
}

// Rows of A (I + T): the attention of the given v when MD-TPE mixed it (see position.h).
RowMatrix with_tpe(const RowMatrix& A, const Grid& g) {
  RowMatrix At = A.transpose();
  md_tpe_apply(At, {g.height, g.width}, true);
  return At.transpose();
}

double log_add_exp(double a, double b) {
  const double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

// Scalar coefficients c_{p'} of the state a scan builds (S = Σ c_{p'} k_{p'} v_{p'}^T), run
// step by step over `order`: additive c ← (δ_{t−1}/δ_t) c, c_{p_t} += exp(f)/δ_t (read after
// the whole scan); multiplicative c ← λ c, c_{p_t} += 1 (read when the scan reaches `query`).
std::vector<double> scan_coefficients(const GridInputs& in, const std::vector<int64_t>& order,
                                      bool additive, double lambda, int64_t query) {
  std::vector<double> c(static_cast<size_t>(in.grid.size()), 0.0);
  double z = 0;
  for (size_t t = 0; t < order.size(); ++t) {
    const int64_t p = order[t];
    const double f = in.log_weight[p];
    double decay = lambda, weight = 1.0;
    if (additive) {
      const double z_new = t == 0 ? f : log_add_exp(z, f);
      decay = t == 0 ? 0.0 : std::exp(z - z_new);
      weight = std::exp(f - z_new);
      z = z_new;
    }
    for (auto& x : c) x *= decay;
    c[static_cast<size_t>(p)] += weight;
    if (!additive && p == query) break;
  }
  return c;
}

}  // namespace

void check_grid(const GridInputs& in, const std::vector<int64_t>& order) {
  check_inputs(in);
  check_order(order, in.grid.size());
}

std::vector<int64_t> scan_order(const Grid& g, ScanOrder order, uint64_t seed) {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(g.size()));
  switch (order) {
    case ScanOrder::RowMajor:
    case ScanOrder::Random:
      for (int64_t p = 0; p < g.size(); ++p) out.push_back(p);
      break;
    case ScanOrder::ColumnMajor:
      for (int64_t c = 0; c < g.width; ++c)
        for (int64_t r = 0; r < g.height; ++r) out.push_back(r * g.width + c);
      break;
    case ScanOrder::Snake:
      for (int64_t r = 0; r < g.height; ++r)
        for (int64_t i = 0; i < g.width; ++i)
          out.push_back(r * g.width + (r % 2 == 0 ? i : g.width - 1 - i));
      break;
  }
  if (order == ScanOrder::Random) {
    Rng rng(seed);  // Fisher–Yates with our own portable Rng
    for (int64_t i = g.size() - 1; i > 0; --i) {
      const auto j = static_cast<int64_t>(rng.uniform() * static_cast<double>(i + 1));
      std::swap(out[static_cast<size_t>(i)], out[static_cast<size_t>(std::min(j, i))]);
    }
  }
  return out;
}

GridInputs random_grid_inputs(const Grid& grid, int64_t Dk, int64_t Dv, uint64_t seed) {
  Rng rng(seed);
  const int64_t n = grid.size();
  Tensor q = random_normal({n, Dk}, rng), k = random_normal({n, Dk}, rng);
  lion_feature_map(q);
  lion_feature_map(k);
  Tensor v = random_normal({n, Dv}, rng), f = random_normal({n}, rng);
  GridInputs in;
  in.grid = grid;
  in.q = Eigen::Map<RowMatrix>(q.data(), n, Dk);
  in.k = Eigen::Map<RowMatrix>(k.data(), n, Dk);
  in.v = Eigen::Map<RowMatrix>(v.data(), n, Dv);
  in.log_weight = Eigen::Map<Eigen::VectorXf>(f.data(), n).cast<double>();
  return in;
}

GridResult run_grid(const GridInputs& in, const std::vector<int64_t>& order, Form form,
                    const LightNetSettings& st, bool attention) {
  check_grid(in, order);
  const int64_t n = in.grid.size(), Dk = in.q.cols(), Dv = in.v.cols();
  RowMatrix q, k, v;
  encode(in, st, q, k, v);
  GridResult r;
  const double Z = [&] {  // log δ_n = log Σ_p exp(f_p), order-free
    double z = in.log_weight[0];
    for (int64_t p = 1; p < n; ++p) z = log_add_exp(z, in.log_weight[p]);
    return z;
  }();
  if (form == Form::Parallel || attention) {
    RowMatrix A = q * k.transpose();
    for (int64_t p = 0; p < n; ++p)
      for (int64_t pp = 0; pp < n; ++pp) {
        A(p, pp) = static_cast<float>(A(p, pp) * std::exp(in.log_weight[pp] - Z));
      }
    if (form == Form::Parallel) r.y = A * v;
    if (attention) r.attention = st.md_tpe ? with_tpe(A, in.grid) : A;
  }
  if (form == Form::Recurrent) {
    // One scan of the additive recurrence in `order`. S_t = Σ_{s<=t} e^{f_s}/δ_t k_s v_s^T is
    // kept as e^{-m_t} Σ_{s<=t} e^{f_s} k_s v_s^T with m_t the running maximum of f (log space:
    // every weight e^{f_s − m_t} <= 1, no overflow for any f). One rank-1 update per token, as
    // a multiplicative scan costs; S is rescaled only when the maximum grows, and divided by
    // δ_n e^{-m} once at the end, which gives the paper's S_n exactly.
    RowMatrix S = RowMatrix::Zero(Dk, Dv);
    double m = -std::numeric_limits<double>::infinity();
    for (size_t t = 0; t < order.size(); ++t) {
      const int64_t p = order[t];
      const double f = in.log_weight[p];
      if (f > m) {
        if (t > 0) S *= static_cast<float>(std::exp(m - f));
        m = f;
      }
      const auto weight = static_cast<float>(std::exp(f - m));
      S.noalias() += k.row(p).transpose() * (weight * v.row(p));
    }
    S *= static_cast<float>(std::exp(m - Z));
    r.y = q * S;  // every pixel reads the final state
  } else if (form != Form::Parallel) {
    throw Error("LightNet grid: no " + to_string(form) + " form (recurrent and parallel)");
  }
  return r;
}

int64_t state_scans(Approach a) {
  switch (a) {
    case Approach::Additive:
    case Approach::Multiplicative1:
      return 1;
    case Approach::Multiplicative2:
      return 2;
    case Approach::Multiplicative4:
      return 4;
  }
  return 0;
}

int64_t tpe_scans(const LightNetSettings& st, int64_t axes) {
  return st.md_tpe ? axes : 0;
}

RowMatrixD receptive_field(const GridInputs& in, int64_t query, const ReceptiveFieldOptions& o) {
  check_inputs(in);
  const Grid& g = in.grid;
  const int64_t n = g.size();
  if (query < 0 || query >= n)
    throw Error("receptive field: query pixel " + std::to_string(query) + " is outside the " +
                std::to_string(g.height) + "x" + std::to_string(g.width) + " grid");
  const std::vector<int64_t> row_major = scan_order(g, ScanOrder::RowMajor);
  const std::vector<int64_t> col_major = scan_order(g, ScanOrder::ColumnMajor);
  const std::vector<int64_t>& order = o.order.empty() ? row_major : o.order;
  check_order(order, n);
  auto reversed = [](std::vector<int64_t> v) {
    std::reverse(v.begin(), v.end());
    return v;
  };

  std::vector<double> c(static_cast<size_t>(n), 0.0);
  auto add = [&](const std::vector<int64_t>& ord, bool additive) {
    const auto s = scan_coefficients(in, ord, additive, o.lambda, query);
    for (int64_t p = 0; p < n; ++p) c[static_cast<size_t>(p)] += s[static_cast<size_t>(p)];
  };
  switch (o.approach) {
    case Approach::Additive:
      add(order, true);
      break;
    case Approach::Multiplicative1:
      add(order, false);
      break;
    case Approach::Multiplicative4:
      add(col_major, false);
      add(reversed(col_major), false);
      [[fallthrough]];
    case Approach::Multiplicative2:
      add(row_major, false);
      add(reversed(row_major), false);
      break;
  }

  RowMatrix q, k, v;
  encode(in, o.settings, q, k, v);
  RowMatrix row(1, n);
  for (int64_t p = 0; p < n; ++p)
    row(0, p) = static_cast<float>(c[static_cast<size_t>(p)] *
                                   q.row(query).cast<double>().dot(k.row(p).cast<double>()));
  if (o.settings.md_tpe) row = with_tpe(row, g);
  RowMatrixD field(g.height, g.width);
  for (int64_t p = 0; p < n; ++p) field(p / g.width, p % g.width) = row(0, p);
  return field;
}

}  // namespace linscope::lightnet
