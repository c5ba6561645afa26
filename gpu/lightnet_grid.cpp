// LightNet on a 2-D grid on the CUDA device (gpu/lightnet_grid.h). CPU twin: run_grid in
// core/lightnet/grid.cpp.
//
// The pipeline, in the CPU's order: MD-TPE on q, k, v and MD-LRPE on q, k at the pixels' 2-D
// positions (gpu/lightnet_position.cu); the tokens into scan order; the global 1-D LightNet on
// that sequence (gpu/forward.cu: its recurrent form is the one additive scan in that order,
// its parallel form the matrix); y and the matrix back to pixel numbering; the matrix's MD-TPE
// factor A (I + T) on its rows. Z = log Σ_p e^{f_p} is lightnet_inputs' log-sum-exp in double,
// taken in scan order: the CPU's, in pixel order, differs by rounding in double only.
#include "gpu/lightnet_grid.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "core/base/error.h"
#include "gpu/cuda_check.h"
#include "gpu/forward.h"
#include "gpu/kernels.h"

namespace linscope::gpu {
namespace {

void upload(DeviceBuffer& buf, const void* host, size_t bytes, cudaStream_t s) {
  buf.ensure(bytes);
  check(cudaMemcpyAsync(buf.as<void>(), host, bytes, cudaMemcpyHostToDevice, s),
        "cudaMemcpyAsync (LightNet grid upload)");
}

void download(RowMatrix& out, const DeviceBuffer& buf, cudaStream_t s) {
  check(cudaMemcpyAsync(out.data(), buf.as<void>(), sizeof(float) * out.size(),
                        cudaMemcpyDeviceToHost, s),
        "cudaMemcpyAsync (LightNet grid download)");
}

}  // namespace

lightnet::GridResult run_grid(const lightnet::GridInputs& in, const std::vector<int64_t>& order,
                              Form form, const LightNetSettings& settings, bool attention) {
  lightnet::check_grid(in, order);
  if (form != Form::Recurrent && form != Form::Parallel)
    throw Error("LightNet grid: no " + to_string(form) + " form (recurrent and parallel)");
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count < 1) {
    cudaGetLastError();  // clear the error of a failed query
    throw BackendError("LightNet grid: no usable CUDA device");
  }
  const int64_t n = in.grid.size(), Dk = in.q.cols(), Dv = in.v.cols();
  const TokenGrid g{2, in.grid.height, in.grid.width};
  Stream stream;
  const cudaStream_t s = stream.get();

  // Inputs in pixel numbering; f in fp32 as every GPU path takes it (from the CPU's double:
  // an absolute change of at most |f|·2^-24, far below the checks' tolerance).
  const std::vector<float> f32(in.log_weight.data(), in.log_weight.data() + n);
  DeviceBuffer q, k, v, f, ord, source;
  upload(q, in.q.data(), sizeof(float) * n * Dk, s);
  upload(k, in.k.data(), sizeof(float) * n * Dk, s);
  upload(v, in.v.data(), sizeof(float) * n * Dv, s);
  upload(f, f32.data(), sizeof(float) * n, s);
  upload(ord, order.data(), sizeof(int64_t) * n, s);
  const auto* order_d = ord.as<int64_t>();

  if (settings.md_tpe) {  // MD-TPE first, then MD-LRPE, as lightnet::run_grid encodes
    // One scratch for every MD-TPE pass (the features', then the matrix's rows), allocated once
    // so that no buffer is freed while a kernel on the stream may still read it.
    source.allocate(sizeof(float) * n * std::max({Dk, Dv, attention ? n : int64_t(0)}));
    lightnet_md_tpe(q.as<float>(), source.as<float>(), 1, g, Dk, false, s);
    lightnet_md_tpe(k.as<float>(), source.as<float>(), 1, g, Dk, false, s);
    lightnet_md_tpe(v.as<float>(), source.as<float>(), 1, g, Dv, false, s);
  }
  if (settings.md_lrpe) {
    lightnet_md_lrpe(q.as<float>(), 1, g, Dk, s);
    lightnet_md_lrpe(k.as<float>(), 1, g, Dk, s);
  }

  // The tokens in scan order, one head of the 1-D global form.
  DeviceBuffer qs(sizeof(float) * n * Dk), ks(sizeof(float) * n * Dk), vs(sizeof(float) * n * Dv),
      fs(sizeof(float) * n);
  gather_rows(q.as<float>(), order_d, qs.as<float>(), n, Dk, s);
  gather_rows(k.as<float>(), order_d, ks.as<float>(), n, Dk, s);
  gather_rows(v.as<float>(), order_d, vs.as<float>(), n, Dv, s);
  gather_rows(f.as<float>(), order_d, fs.as<float>(), n, 1, s);
  const Dims d{1, n, Dk, Dv};
  const DeviceInputs din{qs.as<float>(), ks.as<float>(), vs.as<float>(),
                         fs.as<float>(), nullptr,        d};
  ModelSpec spec;  // the encodings are done: the plain global model
  spec.family = Family::LightNet;
  spec.direction = Direction::Bidirectional;
  RunOptions opts;
  opts.form = form;
  opts.attention = attention;
  DeviceBuffer ys(sizeof(float) * n * Dv), atts;
  if (attention) atts.allocate(sizeof(float) * n * n);
  Workspace ws;
  forward(spec, opts, din, ys.as<float>(), attention ? atts.as<float>() : nullptr, ws, s);

  // Back to pixel numbering (q, v no longer needed: their buffers take y and the matrix).
  lightnet::GridResult r;
  scatter_rows(ys.as<float>(), order_d, v.as<float>(), n, Dv, s);
  r.y = RowMatrix(n, Dv);
  download(r.y, v, s);
  DeviceBuffer att;
  if (attention) {
    att.allocate(sizeof(float) * n * n);
    scatter_square(atts.as<float>(), order_d, att.as<float>(), n, s);
    if (settings.md_tpe) {  // the matrix of the given v: A (I + T), a transposed scan per row
      lightnet_md_tpe(att.as<float>(), source.as<float>(), n, g, 1, true, s);
    }
    r.attention = RowMatrix(n, n);
    download(r.attention, att, s);
  }
  check(cudaStreamSynchronize(s), "LightNet grid");  // before the buffers are freed
  return r;
}

}  // namespace linscope::gpu
