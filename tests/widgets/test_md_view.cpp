// The multi-dimensional view under the offscreen platform.
#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <QApplication>
#include <QSignalSpy>
#include <QTableWidget>

#include "widgets/md/md_view.h"

namespace {

QApplication* app() {
  static int argc = 1;
  static char name[] = "test_md_view";
  static char* argv[] = {name, nullptr};
  if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  static QApplication* a = new QApplication(argc, argv);
  return a;
}

using linscope::widgets::MdView;

void wait_computed(MdView& v) {
  QSignalSpy spy(&v, &MdView::computed);
  if (v.busy()) ASSERT_TRUE(spy.wait(60000));
}

TEST(MdView, AdditiveFieldCoversTheGridWhileOneMultiplicativeScanDoesNot) {
  app();
  MdView v;
  v.resize(1600, 1000);
  wait_computed(v);
  if (qEnvironmentVariableIsSet("LINSCOPE_SHOT"))
    v.grab().save(qEnvironmentVariable("LINSCOPE_SHOT"));
  const auto& r = v.result();
  ASSERT_TRUE(r.error.isEmpty()) << r.error.toStdString();
  ASSERT_EQ(r.grid, 32);
  const auto& additive = r.field[0];
  const auto& one_scan = r.field[1];
  EXPECT_GT(additive.minCoeff(), 0.0) << "the additive scan reaches every pixel";
  // One row-major multiplicative scan sees nothing after the query (16, 16).
  EXPECT_EQ(one_scan.block(17, 0, 15, 32).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_GT(r.field[3].block(17, 0, 15, 32).cwiseAbs().maxCoeff(), 0.0) << "4 scans cover it";
  // The heatmap holds what the core computed.
  auto* map = static_cast<QCPColorMap*>(v.fieldPlot(0)->plottable(0));
  EXPECT_DOUBLE_EQ(map->data()->cell(5, 7), additive(7, 5));
}

TEST(MdView, QueryAndFramesChangeWhatIsShown) {
  app();
  MdView v;
  wait_computed(v);
  const auto before = v.result().field[1];
  v.setQuery(3, 4);
  wait_computed(v);
  EXPECT_GT((v.result().field[1] - before).cwiseAbs().maxCoeff(), 0.0);
  const int frames = int(v.result().frame_steps.size());
  ASSERT_GT(frames, 10);
  v.setFrame(frames / 2);
  EXPECT_EQ(v.frame(), frames / 2);
  v.setFrame(1000000);
  EXPECT_EQ(v.frame(), frames - 1);
  EXPECT_EQ(v.result().frame_steps.back(), 32 * 32);
}

TEST(MdView, TimingsOfBothApproachesAtTwoSizes) {
  app();
  MdView v;
  wait_computed(v);
  QSignalSpy spy(&v, &MdView::timingsMeasured);
  v.measureTimings();
  ASSERT_TRUE(spy.wait(120000));
  // 4 approaches x 2 grid sizes on the CPU, the same again on a GPU when there is one.
  const int rows = v.timings()->rowCount();
  ASSERT_TRUE(rows == 8 || rows == 16) << rows;
  for (int i = 0; i < rows; ++i) EXPECT_GT(v.timings()->item(i, 3)->text().toDouble(), 0.0);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(v.timings()->item(i, 2)->text(), "CPU");
}

}  // namespace
