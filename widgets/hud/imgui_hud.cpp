#include "widgets/hud/imgui_hud.h"

#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <QMouseEvent>
#include <QSurfaceFormat>
#include <QWheelEvent>

namespace linscope::widgets {

ImGuiHud::ImGuiHud(QWidget* parent) : QOpenGLWidget(parent) {
  // Drawn over its parent's plot; transparent wherever ImGui draws nothing.
  setAttribute(Qt::WA_AlwaysStackOnTop);
  setAttribute(Qt::WA_TranslucentBackground);
  setFocusPolicy(Qt::NoFocus);  // never steal the keyboard from the Qt widgets
  setMouseTracking(true);
  QSurfaceFormat fmt = format();
  fmt.setAlphaBufferSize(8);  // transparent where ImGui draws nothing
  setFormat(fmt);
  IMGUI_CHECKVERSION();
  ImGuiContext* previous = ImGui::GetCurrentContext();
  context_ = ImGui::CreateContext();
  ImGui::SetCurrentContext(context_);
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // layout is not persisted between runs
  io.ConfigFlags |= ImGuiConfigFlags_NoMouseCursorChange;
  ImGui::StyleColorsDark();
  ImGui::GetStyle().Alpha = 0.92f;
  ImGui::SetCurrentContext(previous);
  clock_.start();
}

ImGuiHud::~ImGuiHud() {
  if (backend_ready_) {
    makeCurrent();
    ImGui::SetCurrentContext(context_);
    ImGui_ImplOpenGL3_Shutdown();
    doneCurrent();
  }
  ImGui::DestroyContext(context_);
}

void ImGuiHud::setStats(const HudStats& stats) {
  stats_ = stats;
  update();
}

void ImGuiHud::initializeGL() {
  initializeOpenGLFunctions();
  ImGui::SetCurrentContext(context_);
  backend_ready_ = ImGui_ImplOpenGL3_Init(nullptr);
}

void ImGuiHud::buildFrame() {
  ImGui::SetNextWindowPos(ImVec2(10, 10), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowBgAlpha(0.8f);
  ImGui::Begin("linscope HUD", nullptr, ImGuiWindowFlags_AlwaysAutoResize);
  ImGui::Text("frame %.2f ms (%.0f fps)", frame_ms_, frame_ms_ > 0 ? 1000.0 / frame_ms_ : 0.0);
  ImGui::Text("device: %s", stats_.device.isEmpty() ? "?" : stats_.device.toUtf8().constData());
  if (stats_.memory_total_gib > 0)
    ImGui::Text("memory: %.1f / %.1f GiB", stats_.memory_used_gib, stats_.memory_total_gib);
  ImGui::Separator();
  if (stats_.timings_ms.empty()) ImGui::TextDisabled("no timings yet");
  for (const auto& [name, ms] : stats_.timings_ms)
    ImGui::Text("%-24s %9.3f ms", name.toUtf8().constData(), ms);
  ImGui::Separator();
  if (stats_.sweep_running) {
    const float f = stats_.sweep_total > 0 ? float(stats_.sweep_done) / stats_.sweep_total : 0.f;
    ImGui::ProgressBar(f, ImVec2(200, 0));
    if (ImGui::Button("cancel sweep")) emit cancelSweepRequested();
  } else {
    ImGui::TextDisabled("no sweep running");
  }
  if (ImGui::Checkbox("log-log axes", &log_scale_)) emit logScaleToggled(log_scale_);
  if (ImGui::Checkbox("roofline", &roofline_)) emit rooflineToggled(roofline_);
  ImGui::End();
}

void ImGuiHud::paintGL() {
  frame_ms_ = clock_.nsecsElapsed() * 1e-6;
  clock_.restart();
  glClearColor(0, 0, 0, 0);
  glClear(GL_COLOR_BUFFER_BIT);
  if (!backend_ready_) return;
  ImGui::SetCurrentContext(context_);
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(float(width()), float(height()));
  const float dpr = float(devicePixelRatioF());
  io.DisplayFramebufferScale = ImVec2(dpr, dpr);
  io.DeltaTime = frame_ms_ > 0 ? float(frame_ms_ * 1e-3) : 1.0f / 60.0f;
  ImGui_ImplOpenGL3_NewFrame();
  // ImGui hides auto-sized windows on their first frame while it measures them: lay the first
  // frame out twice so that a single grab (or a single paint) already shows the HUD.
  for (int pass = frames_ == 0 ? 0 : 1; pass < 2; ++pass) {
    ImGui::NewFrame();
    buildFrame();
    ImGui::Render();
  }
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  ++frames_;
}

void ImGuiHud::forwardMouse(QMouseEvent* e, bool) {
  ImGui::SetCurrentContext(context_);
  ImGuiIO& io = ImGui::GetIO();
  io.MousePos = ImVec2(float(e->position().x()), float(e->position().y()));
  io.MouseDown[0] = e->buttons() & Qt::LeftButton;
  io.MouseDown[1] = e->buttons() & Qt::RightButton;
  io.MouseDown[2] = e->buttons() & Qt::MiddleButton;
  const bool wanted = io.WantCaptureMouse;
  update();
  // Let the plot underneath have the events that ImGui does not need.
  if (!wanted) e->ignore();
}

void ImGuiHud::mouseMoveEvent(QMouseEvent* e) {
  forwardMouse(e, false);
}
void ImGuiHud::mousePressEvent(QMouseEvent* e) {
  forwardMouse(e, true);
}
void ImGuiHud::mouseReleaseEvent(QMouseEvent* e) {
  forwardMouse(e, true);
}

void ImGuiHud::wheelEvent(QWheelEvent* e) {
  ImGui::SetCurrentContext(context_);
  ImGuiIO& io = ImGui::GetIO();
  io.MouseWheel += float(e->angleDelta().y()) / 120.0f;
  if (!io.WantCaptureMouse) e->ignore();
  update();
}

}  // namespace linscope::widgets
