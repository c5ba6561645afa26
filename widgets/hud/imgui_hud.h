// A Dear ImGui heads-up display hosted in a QOpenGLWidget, laid over a plot (in the spirit of
// Tracy's HUD): frame time, the last kernel timings, the device and its memory, and quick
// toggles for a running sweep. It only shows numbers it is given (setStats); it computes
// nothing. Mouse input is forwarded to ImGui; events ImGui does not want fall through to the
// widget underneath; the HUD never takes keyboard focus.
#pragma once
#include <QElapsedTimer>
#include <QOpenGLFunctions>
#include <QOpenGLWidget>
#include <QString>
#include <utility>
#include <vector>

struct ImGuiContext;

namespace linscope::widgets {

struct HudStats {
  QString device;               // "NVIDIA H100 80GB HBM3" or "CPU (16 threads)"
  double memory_used_gib = -1;  // < 0: unknown
  double memory_total_gib = -1;
  std::vector<std::pair<QString, double>> timings_ms;  // last kernel/form timings
  bool sweep_running = false;
  int sweep_done = 0, sweep_total = 0;
};

class ImGuiHud : public QOpenGLWidget, protected QOpenGLFunctions {
  Q_OBJECT
 public:
  explicit ImGuiHud(QWidget* parent = nullptr);
  ~ImGuiHud() override;

  void setStats(const HudStats& stats);
  const HudStats& stats() const { return stats_; }
  // Whether the last frame drew through ImGui (false when no OpenGL context could be made).
  bool rendered() const { return frames_ > 0; }
  double lastFrameMs() const { return frame_ms_; }

 signals:
  void cancelSweepRequested();
  void logScaleToggled(bool on);
  void rooflineToggled(bool on);

 protected:
  void initializeGL() override;
  void paintGL() override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;

 private:
  void forwardMouse(QMouseEvent* e, bool pressed_change);
  void buildFrame();
  ImGuiContext* context_ = nullptr;
  bool backend_ready_ = false;
  HudStats stats_;
  QElapsedTimer clock_;
  double frame_ms_ = 0;
  long frames_ = 0;
  bool log_scale_ = true, roofline_ = true;
};

}  // namespace linscope::widgets
