// The profiler view under the offscreen platform: a sweep fills plots and table as points
// arrive, can be cancelled, and saved runs overlay.
#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <QApplication>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>

#include "widgets/profiler/profiler_view.h"

namespace {

QApplication* app() {
  static int argc = 1;
  static char name[] = "test_profiler_view";
  static char* argv[] = {name, nullptr};
  if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  static QApplication* a = new QApplication(argc, argv);
  return a;
}

using linscope::widgets::ProfilerView;

bool wait_finished(ProfilerView& v, QSignalSpy& spy) {
  return spy.count() > 0 || spy.wait(120000);
}

TEST(ProfilerView, SweepFillsPlotsAndTableAsPointsArrive) {
  app();
  ProfilerView v;
  v.selectOnly("linear attention D (causal)");
  v.setLengths("32,64,128");
  v.setRepetitions(2);
  const size_t points = linscope::profile::expand(v.config()).size();
  EXPECT_EQ(points, 3u * (1 + 1 + 2));  // recurrent, parallel, chunkwise at C = 32 and 64
  QSignalSpy done(&v, &ProfilerView::sweepFinished);
  v.startSweep();
  EXPECT_TRUE(v.running());
  ASSERT_TRUE(wait_finished(v, done));
  EXPECT_FALSE(done.takeFirst().at(0).toBool());  // not cancelled
  ASSERT_EQ(v.runs()[0].results.size(), points);
  for (const auto& r : v.runs()[0].results) {
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.times_ms.size(), 2u);
    EXPECT_LE(r.min_ms, r.median_ms);
  }
  EXPECT_EQ(v.table()->rowCount(), int(points));
  EXPECT_GE(v.timePlot()->graphCount(), 4);  // one series per form and chunk size
}

TEST(ProfilerView, SweepCanBeCancelled) {
  app();
  ProfilerView v;
  v.selectOnly("linear attention D (causal)");
  v.setLengths("64,128,256,512,1024,2048,4096");
  v.setRepetitions(20);
  const size_t points = linscope::profile::expand(v.config()).size();
  QSignalSpy done(&v, &ProfilerView::sweepFinished);
  v.startSweep();
  v.cancelSweep();
  ASSERT_TRUE(wait_finished(v, done));
  EXPECT_TRUE(done.takeFirst().at(0).toBool());
  EXPECT_LT(v.runs()[0].results.size(), points);
  EXPECT_FALSE(v.running());
}

TEST(ProfilerView, SavedRunsOverlayAndBadFilesAreReported) {
  app();
  QTemporaryDir dir;
  ProfilerView v;
  v.selectOnly("linear attention D (causal)");
  v.setLengths("16,32");
  v.setRepetitions(1);
  QSignalSpy done(&v, &ProfilerView::sweepFinished);
  v.startSweep();
  ASSERT_TRUE(wait_finished(v, done));
  const int graphs = v.timePlot()->graphCount();
  const QString path = dir.filePath("run.json");
  ASSERT_TRUE(v.saveJson(path));
  ASSERT_TRUE(v.loadJson(path));
  ASSERT_EQ(v.runs().size(), 2u);
  EXPECT_EQ(v.runs()[1].results.size(), v.runs()[0].results.size());
  EXPECT_EQ(v.timePlot()->graphCount(), 2 * graphs);
  QFile bad(dir.filePath("bad.json"));
  ASSERT_TRUE(bad.open(QIODevice::WriteOnly));
  bad.write("{\"points\": 3");
  bad.close();
  QString error;
  EXPECT_FALSE(v.loadJson(dir.filePath("bad.json"), &error));
  EXPECT_TRUE(error.contains("bad.json")) << error.toStdString();
  v.clearOverlays();
  EXPECT_EQ(v.runs().size(), 1u);
}

}  // namespace
