// Reader of the safetensors format. Validation follows the rules of Hugging Face's own
// library: the header must be a JSON object of at most 100 MB, every tensor's byte range must
// match dtype x shape, and the ranges must tile the data section exactly (no overlap, no hole,
// no trailing bytes). Nothing is read from the data section before all of that holds.
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "core/base/error.h"
#include "core/io/half.h"
#include "core/io/mapped_file.h"
#include "core/io/safetensors.h"

namespace linscope::io {

// F64 -> F32 relies on IEEE-754 conversion: out-of-range doubles become ±inf, as torch does.
static_assert(std::numeric_limits<float>::is_iec559 && std::numeric_limits<double>::is_iec559);
static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host needs byte swaps here");

namespace {

constexpr uint64_t kMaxHeader = 100'000'000;  // HF's limit: a larger header is an attack or junk
constexpr int kMaxDepth = 16;

struct DTypeName {
  DType dtype;
  const char* name;
  size_t size;
};
constexpr DTypeName kDTypes[] = {
    {DType::F64, "F64", 8},   {DType::F32, "F32", 4}, {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8}, {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},   {DType::I8, "I8", 1},   {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1},
};

bool parse_dtype(const std::string& s, DType* out) {
  for (const auto& d : kDTypes)
    if (s == d.name) {
      *out = d.dtype;
      return true;
    }
  return false;
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::string tname(const std::string& name) {
  return "tensor '" + name + "'";
}

}  // namespace

std::string to_string(DType d) {
  for (const auto& e : kDTypes)
    if (e.dtype == d) return e.name;
  return "?";
}

size_t dtype_size(DType d) {
  for (const auto& e : kDTypes)
    if (e.dtype == d) return e.size;
  return 0;
}

struct SafetensorsFile::Impl {
  std::string path;
  MappedFile map;
  uint64_t data_start = 0;  // 8 + N
  std::vector<TensorInfo> tensors;
  std::map<std::string, size_t> index;
  std::map<std::string, std::string> metadata;

  explicit Impl(const std::string& p) : path(p), map(p) {}

  [[noreturn]] void fail(const std::string& what) const { throw Error(path + ": " + what); }

  void parse();
  void parse_tensor(const std::string& name, const nlohmann::json& v);
  void check_layout() const;
};

void SafetensorsFile::Impl::parse() {
  const uint64_t size = map.size();
  if (size < 8)
    fail("file is " + std::to_string(size) +
         " bytes, shorter than the 8-byte header length of a safetensors file");
  const uint64_t n = load<uint64_t>(map.data());
  if (n > kMaxHeader)
    fail("header length " + std::to_string(n) + " bytes is absurd (limit " +
         std::to_string(kMaxHeader) + ")");
  if (n > size - 8)
    fail("header length " + std::to_string(n) + " bytes runs beyond the end of the file (" +
         std::to_string(size - 8) + " bytes follow the length)");
  data_start = 8 + n;

  // nlohmann keeps the last of duplicate keys silently; the parser callback sees every key,
  // so duplicates at the top level (tensor names) are caught here.
  std::unordered_set<std::string> seen;
  std::string duplicate;
  // It also bounds nesting: a valid header is 3 levels deep, and a 100 MB run of '[' must not
  // exhaust the stack when the parsed value is built and destroyed.
  const auto on_event = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& j) {
    if (depth > kMaxDepth)
      fail("header JSON is nested deeper than " + std::to_string(kMaxDepth) + " levels");
    if (ev == nlohmann::json::parse_event_t::key && depth == 1) {
      const std::string k = j.get<std::string>();
      if (!seen.insert(k).second && duplicate.empty()) duplicate = k;
    }
    return true;
  };
  nlohmann::json header;
  try {
    const char* begin = reinterpret_cast<const char*>(map.data() + 8);
    header = nlohmann::json::parse(begin, begin + n, on_event);
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail("header JSON is not an object");
  if (!duplicate.empty()) fail("duplicate " + tname(duplicate) + " in the header");

  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) fail("__metadata__ is not an object of strings");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) fail("__metadata__ entry '" + m.key() + "' is not a string");
        metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    parse_tensor(it.key(), *it);
  }
  // nlohmann orders object keys by name; "file order" is the order of the bytes.
  std::stable_sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 0; i < tensors.size(); ++i) index[tensors[i].name] = i;
  check_layout();
}

void SafetensorsFile::Impl::parse_tensor(const std::string& name, const nlohmann::json& v) {
  const std::string t = tname(name);
  if (!v.is_object()) fail(t + ": entry is not an object");
  if (!v.contains("dtype") || !v["dtype"].is_string()) fail(t + ": missing string 'dtype'");
  if (!v.contains("shape") || !v["shape"].is_array()) fail(t + ": missing array 'shape'");
  if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
    fail(t + ": 'data_offsets' must be an array [begin, end]");
  TensorInfo info;
  info.name = name;
  const std::string dt = v["dtype"].get<std::string>();
  if (!parse_dtype(dt, &info.dtype))
    fail(t + ": unknown dtype '" + dt +
         "' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");

  uint64_t numel = 1;
  for (const auto& d : v["shape"]) {
    if (!d.is_number_integer()) fail(t + ": shape entries must be integers");
    if (d.is_number_unsigned() ? d.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())
                               : d.get<int64_t>() < 0)
      fail(t + ": shape " + d.dump() + " is negative or too large");
    const auto dim = d.get<int64_t>();
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dim), &numel) ||
        numel > uint64_t(std::numeric_limits<int64_t>::max()))
      fail(t + ": the product of the shape overflows");
    info.shape.push_back(dim);
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(numel, uint64_t(dtype_size(info.dtype)), &bytes))
    fail(t + ": byte size of the shape overflows");

  for (const auto& o : v["data_offsets"])
    if (!o.is_number_unsigned() && !(o.is_number_integer() && o.get<int64_t>() >= 0))
      fail(t + ": data_offsets must be non-negative integers");
  info.begin = v["data_offsets"][0].get<uint64_t>();
  info.end = v["data_offsets"][1].get<uint64_t>();
  const uint64_t data_size = map.size() - data_start;
  if (info.end < info.begin)
    fail(t + ": data_offsets end " + std::to_string(info.end) + " is before begin " +
         std::to_string(info.begin));
  if (info.end > data_size)
    fail(t + ": data_offsets [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
         "] run beyond the data section (" + std::to_string(data_size) + " bytes)");
  if (info.end - info.begin != bytes)
    fail(t + ": data_offsets span " + std::to_string(info.end - info.begin) + " bytes but dtype " +
         dt + " x shape " + shape_to_string(info.shape) + " needs " + std::to_string(bytes));
  tensors.push_back(std::move(info));
}

// Sorted by begin, the ranges must tile [0, data size): each begins where the previous ended.
void SafetensorsFile::Impl::check_layout() const {
  uint64_t at = 0;
  const TensorInfo* prev = nullptr;
  for (const auto& t : tensors) {
    if (t.begin < at)
      fail(tname(t.name) + " bytes [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
           ") overlap " + tname(prev->name) + " [" + std::to_string(prev->begin) + ", " +
           std::to_string(prev->end) + ")");
    if (t.begin > at)
      fail("hole in the data section: bytes [" + std::to_string(at) + ", " +
           std::to_string(t.begin) + ") belong to no tensor (before " + tname(t.name) + ")");
    at = t.end;
    prev = &t;
  }
  const uint64_t data_size = map.size() - data_start;
  if (at != data_size)
    fail("hole in the data section: bytes [" + std::to_string(at) + ", " +
         std::to_string(data_size) + ") after the last tensor belong to no tensor");
}

SafetensorsFile::SafetensorsFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  auto impl = std::make_unique<Impl>(path);
  impl->parse();
  return SafetensorsFile(std::move(impl));
}

const std::string& SafetensorsFile::path() const {
  return impl_->path;
}
const std::vector<TensorInfo>& SafetensorsFile::tensors() const {
  return impl_->tensors;
}
const std::map<std::string, std::string>& SafetensorsFile::metadata() const {
  return impl_->metadata;
}
bool SafetensorsFile::has(const std::string& name) const {
  return impl_->index.count(name) != 0;
}

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  const auto it = impl_->index.find(name);
  if (it == impl_->index.end()) impl_->fail("no " + tname(name));
  return impl_->tensors[it->second];
}

const uint8_t* SafetensorsFile::raw(const std::string& name) const {
  return impl_->map.data() + impl_->data_start + info(name).begin;
}

namespace {

// One tight loop per dtype (the switch is outside it) so the compiler can vectorize.
template <typename T, typename F>
void widen(const uint8_t* p, int64_t n, float* out, F f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(load<T>(p + static_cast<size_t>(i) * sizeof(T)));
}

}  // namespace

Tensor SafetensorsFile::read_f32(const std::string& name) const {
  const TensorInfo& t = info(name);
  const uint8_t* p = raw(name);
  const int64_t n = numel_of(t.shape);
  std::vector<float> values(static_cast<size_t>(n));
  float* out = values.data();
  const auto to_f = [](auto v) { return static_cast<float>(v); };
  switch (t.dtype) {
    case DType::F32:
      if (n) std::memcpy(out, p, static_cast<size_t>(n) * 4);
      break;
    case DType::F64:
      widen<double>(p, n, out, to_f);
      break;
    case DType::F16:
      widen<uint16_t>(p, n, out, f16_to_f32);
      break;
    case DType::BF16:
      widen<uint16_t>(p, n, out, bf16_to_f32);
      break;
    case DType::I64:
      widen<int64_t>(p, n, out, to_f);
      break;
    case DType::I32:
      widen<int32_t>(p, n, out, to_f);
      break;
    case DType::I16:
      widen<int16_t>(p, n, out, to_f);
      break;
    case DType::I8:
      widen<int8_t>(p, n, out, to_f);
      break;
    case DType::U8:
      widen<uint8_t>(p, n, out, to_f);
      break;
    case DType::BOOL:
      widen<uint8_t>(p, n, out, [](uint8_t b) { return b ? 1.0f : 0.0f; });
      break;
  }
  return Tensor(t.shape, std::move(values));
}

Inputs read_inputs(const std::string& path) {
  const SafetensorsFile f = SafetensorsFile::open(path);
  Inputs in;
  for (const auto& t : f.tensors()) in.set(t.name, f.read_f32(t.name));
  return in;
}

}  // namespace linscope::io
