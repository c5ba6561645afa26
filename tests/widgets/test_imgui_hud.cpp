// The ImGui HUD draws through OpenGL where a context can be made (offscreen or Xvfb), and
// skips cleanly where none can.
#include <gtest/gtest.h>

#include <QApplication>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QTest>

#include "widgets/hud/imgui_hud.h"

namespace {

QApplication* app() {
  static int argc = 1;
  static char name[] = "test_imgui_hud";
  static char* argv[] = {name, nullptr};
  // Under Xvfb (the README's test command) the HUD draws through real GLX; elsewhere offscreen.
  if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM"))
    qputenv("QT_QPA_PLATFORM", qEnvironmentVariableIsSet("DISPLAY") ? "xcb" : "offscreen");
  static QApplication* a = new QApplication(argc, argv);
  return a;
}

bool opengl_available() {
  QOpenGLContext ctx;
  if (!ctx.create()) return false;
  QOffscreenSurface surface;
  surface.create();
  return ctx.makeCurrent(&surface);
}

TEST(ImGuiHud, RendersStatsOverTransparentBackground) {
  app();
  if (!opengl_available()) GTEST_SKIP() << "no OpenGL context on this platform";
  linscope::widgets::ImGuiHud hud;
  hud.resize(480, 320);
  linscope::widgets::HudStats s;
  s.device = "CPU (2 threads)";
  s.timings_ms = {{"chunkwise", 1.25}, {"recurrent", 3.5}};
  s.sweep_running = true;
  s.sweep_done = 3;
  s.sweep_total = 10;
  hud.setStats(s);
  const QImage img = hud.grabFramebuffer();  // runs initializeGL + paintGL
  if (!hud.rendered()) GTEST_SKIP() << "OpenGL context too old for ImGui's OpenGL3 backend";
  ASSERT_FALSE(img.isNull());
  if (qEnvironmentVariableIsSet("LINSCOPE_HUD_PNG"))
    img.save(qEnvironmentVariable("LINSCOPE_HUD_PNG"));
  // The HUD window is drawn near the top-left; far away the overlay stays transparent.
  int opaque_top_left = 0;
  for (int y = 12; y < 60; ++y)
    for (int x = 12; x < 120; ++x) opaque_top_left += qAlpha(img.pixel(x, y)) > 0;
  EXPECT_GT(opaque_top_left, 100);
  EXPECT_EQ(qAlpha(img.pixel(img.width() - 5, img.height() - 5)), 0);
  EXPECT_EQ(hud.focusPolicy(), Qt::NoFocus);
  EXPECT_EQ(hud.stats().timings_ms.size(), 2u);
}

// A parent that counts the mouse presses that reach it.
class Underneath : public QWidget {
 public:
  int presses = 0;

 protected:
  void mousePressEvent(QMouseEvent*) override { ++presses; }
};

TEST(ImGuiHud, ClicksOutsideTheHudWindowFallThroughToThePlot) {
  app();
  if (!opengl_available()) GTEST_SKIP() << "no OpenGL context on this platform";
  Underneath plot;
  plot.resize(480, 320);
  auto* hud = new linscope::widgets::ImGuiHud(&plot);
  hud->resize(480, 320);
  plot.show();
  hud->grabFramebuffer();
  if (!hud->rendered()) GTEST_SKIP() << "OpenGL context too old for ImGui's OpenGL3 backend";
  QTest::mousePress(hud, Qt::LeftButton, Qt::NoModifier, QPoint(450, 300));
  EXPECT_EQ(plot.presses, 1);
}

}  // namespace
