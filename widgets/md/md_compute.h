// The multi-dimensional view's work, done off the UI thread: receptive fields of one query
// pixel for the additive scan and the 1/2/4 multiplicative scans, the scan animation's frames,
// and timings of both approaches at 64×64 and 256×256. Plain data in, plain data out.
#pragma once
#include <QString>
#include <QVector>
#include <vector>

#include "core/lightnet/grid_scans.h"

namespace linscope::widgets {

struct MdRequest {
  int grid = 32;  // grid × grid tokens
  lightnet::Pattern pattern = lightnet::Pattern::Blobs;
  bool random_features = false;  // random q, k, v, f instead of the pattern's features
  std::vector<float> image;      // when non-empty: intensities of an image (grid × grid)
  int query_row = 16, query_col = 16;
  double lambda = 0.9;
  LightNetSettings settings;
  lightnet::ScanOrder order = lightnet::ScanOrder::RowMajor;
  int frames = 64;  // animation frames over the scan
  int dk = 8, dv = 8;
  uint64_t seed = 0;
};

struct MdResult {
  int grid = 0;
  RowMatrixD intensity;              // grid × grid
  RowMatrixD field[4];               // Additive, Multiplicative1, 2, 4 receptive fields
  std::vector<int64_t> frame_steps;  // tokens scanned at each frame
  std::vector<RowMatrixD> frame_weights_additive, frame_weights_multiplicative;
  std::vector<RowMatrix> frame_states;  // the additive state S_t at each frame (Dk × Dv)
  QString error;
};

MdResult compute_md(const MdRequest& request);

struct MdTiming {
  QString approach;  // "additive, 1 scan", "multiplicative, 4 scans"
  int grid = 0;
  QString backend;
  double ms = 0;
  QString note;
};

// Times the additive one-scan LightNet and the 1/2/4-scan multiplicative decay at the given
// grid sizes (median of `repetitions`) on the CPU, and on the GPU when there is one; *gpu_note
// says why the GPU rows are missing (empty when they are there).
QVector<MdTiming> time_md(const QVector<int>& grids, int dk, int dv, int repetitions,
                          QString* gpu_note = nullptr);

}  // namespace linscope::widgets
