// The explorer's views under the offscreen platform, driven through the real main window:
// controls change what the heatmaps hold, stepping moves the state and the highlighted row,
// causal attention is zero above the diagonal, exports write readable files, a sweep cancels,
// and a newer request supersedes a stale one.
#include <gtest/gtest.h>
#include <iostream>

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <algorithm>

#include "widgets/attention_view.h"
#include "widgets/compute_controller.h"
#include "widgets/forms_view.h"
#include "widgets/heatmap.h"
#include "widgets/inspector/inspector_view.h"
#include "widgets/main_window.h"
#include "widgets/model_panel.h"
#include "widgets/recurrence_view.h"

namespace {

using namespace linscope;
using namespace linscope::widgets;

QApplication* app() {
  static int argc = 1;
  static char name[] = "test_explorer";
  static char* argv[] = {name, nullptr};
  if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  static QApplication* a = new QApplication(argc, argv);
  return a;
}

// A window on a small model so each recompute takes milliseconds.
std::unique_ptr<MainWindow> small_window(int L = 32) {
  app();
  auto w = std::make_unique<MainWindow>(/*persist=*/false);
  w->panel()->lengthBox()->setValue(L);
  w->panel()->chunkBox()->setValue(8);
  w->recompute();
  EXPECT_TRUE(w->waitIdle(60000));
  return w;
}

bool not_implemented(const std::shared_ptr<const Computed>& c) {
  return c && c->attention.attention.empty() &&
         c->attention_error.contains("not implemented", Qt::CaseInsensitive);
}

TEST(Explorer, ChangingAControlChangesTheColourMapData) {
  auto w = small_window();
  Heatmap* a = w->attentionView()->attentionMap();
  ASSERT_EQ(a->rows(), 32);
  const std::vector<float> before = a->values();
  // Decay D: a smaller λ shrinks every off-diagonal entry of M and so of A.
  w->panel()->decayBox()->setCurrentIndex(int(Decay::D));
  w->panel()->lambdaBox()->setValue(0.5);
  w->recompute();
  ASSERT_TRUE(w->waitIdle(60000));
  ASSERT_EQ(a->values().size(), before.size());
  EXPECT_NE(a->values(), before);
  // The mask panel shows M_ij = λ^{i−j} below the diagonal: check one entry by hand.
  Heatmap* m = w->attentionView()->maskMap();
  ASSERT_EQ(m->rows(), 32);
  EXPECT_NEAR(m->value(5, 2), 0.125, 1e-6);  // 0.5^3
  EXPECT_EQ(m->value(2, 5), 0.0f);           // causal: nothing above the diagonal
}

TEST(Explorer, SteppingAdvancesTheStateAndTheHighlightedRow) {
  auto w = small_window();
  RecurrenceView* r = w->recurrenceView();
  ASSERT_GT(r->positions(), 2);
  r->setPosition(3);
  const int t0 = r->currentToken();
  const std::vector<float> s0 = r->stateMap()->values();
  EXPECT_EQ(r->attentionMap()->highlightedFirst(), t0);
  r->stepForward();
  EXPECT_EQ(r->position(), 4);
  EXPECT_GT(r->currentToken(), t0);
  EXPECT_EQ(r->attentionMap()->highlightedFirst(), r->currentToken());
  EXPECT_NE(r->stateMap()->values(), s0);  // S_t = λ S_{t−1} + k_t v_tᵀ moved
  // Chunkwise mode advances a whole chunk (C = 8 tokens) per step.
  r->setChunkwise(true);
  r->setPosition(0);
  EXPECT_EQ(r->currentToken(), 7);
  r->stepForward();
  EXPECT_EQ(r->currentToken(), 15);
  EXPECT_EQ(r->attentionMap()->highlightedFirst(), 8);
}

TEST(Explorer, CausalIsZeroAboveTheDiagonalAndBidirectionalIsNot) {
  auto w = small_window(24);
  w->panel()->familyBox()->setCurrentIndex(int(Family::Lion));
  w->panel()->decayBox()->setCurrentIndex(int(Decay::D));
  for (Direction d : {Direction::Causal, Direction::Bidirectional}) {
    w->panel()->directionBox()->setCurrentIndex(int(d));
    w->recompute();
    ASSERT_TRUE(w->waitIdle(60000));
    if (not_implemented(w->controller()->latest()))
      GTEST_SKIP() << "LION is not implemented yet: "
                   << w->controller()->latest()->attention_error.toStdString();
    Heatmap* a = w->attentionView()->attentionMap();
    ASSERT_EQ(a->rows(), 24);
    double above = 0;
    for (int i = 0; i < 24; ++i)
      for (int j = i + 1; j < 24; ++j) above += std::fabs(a->value(i, j));
    if (d == Direction::Causal)
      EXPECT_EQ(above, 0.0);
    else
      EXPECT_GT(above, 0.0);
  }
  // The recurrence view shows the backward state S^B_t next to S^F_t (filled even while its
  // tab is not the current one).
  RecurrenceView* r = w->recurrenceView();
  r->setPosition(r->positions() / 2);
  EXPECT_EQ(r->backwardStateMap()->rows(), 16);  // d_k
  EXPECT_NE(r->backwardStateMap()->values(), r->stateMap()->values());
  // Both directions are also shown side by side on the same inputs.
  EXPECT_EQ(w->attentionView()->causalMap()->rows(), 24);
  EXPECT_EQ(w->attentionView()->bidirectionalMap()->rows(), 24);
}

TEST(Explorer, ExportWritesAValidPngAndSvgAndCsv) {
  auto w = small_window();
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  for (int tab = 0; tab < 3; ++tab) {
    w->tabs()->setCurrentIndex(tab);
    const QString png = dir.filePath(QString("view%1.png").arg(tab));
    QString error;
    ASSERT_TRUE(w->exportImage(png, &error)) << error.toStdString();
    QImage img(png);
    ASSERT_FALSE(img.isNull());
    EXPECT_GT(img.width(), 100);
    const QString csv = dir.filePath(QString("view%1.csv").arg(tab));
    ASSERT_TRUE(w->exportCsv(csv, &error)) << error.toStdString();
    EXPECT_GT(QFile(csv).size(), 10);
  }
  const QString svg = dir.filePath("view.svg");
  ASSERT_TRUE(w->exportImage(svg));
  QFile f(svg);
  ASSERT_TRUE(f.open(QIODevice::ReadOnly));
  EXPECT_TRUE(f.readAll().contains("<svg"));
}

TEST(Explorer, ASweepCanBeCancelled) {
  auto w = small_window();
  FormsView* v = w->formsView();
  v->setLengths("64,128,256,512,1024,2048,4096,8192,16384");
  QSignalSpy done(v, &FormsView::sweepDone);
  v->startSweep();
  EXPECT_TRUE(v->sweeping());
  v->cancelSweep();
  ASSERT_TRUE(done.count() > 0 || done.wait(10000));
  EXPECT_TRUE(done.takeFirst().at(0).toBool());
  EXPECT_FALSE(v->sweeping());
  // Points still in flight are dropped after the cancel: the 27-point sweep stopped early.
  QTest::qWait(200);
  EXPECT_LT(v->sweepPoints(), 27);
  EXPECT_EQ(done.count(), 0);  // finished is reported once
}

TEST(Explorer, ASweepFillsTheTimePlotPerForm) {
  auto w = small_window();
  FormsView* v = w->formsView();
  v->setLengths("16,32");
  QSignalSpy done(v, &FormsView::sweepDone);
  v->startSweep();
  ASSERT_TRUE(done.count() > 0 || done.wait(60000));
  EXPECT_FALSE(done.takeFirst().at(0).toBool());
  EXPECT_EQ(v->sweepPoints(), 2 * 3);  // linear attention: recurrent, parallel, chunkwise
  EXPECT_GE(v->sweepPlot()->graphCount(), 3);
}

TEST(Explorer, EveryFamilyRendersOrReportsAnErrorWithoutCrashing) {
  auto w = small_window(16);
  for (int f = 0; f < w->panel()->familyBox()->count(); ++f) {
    w->panel()->familyBox()->setCurrentIndex(f);
    w->recompute();
    ASSERT_TRUE(w->waitIdle(60000)) << "family " << f;
    auto c = w->controller()->latest();
    ASSERT_TRUE(c);
    if (c->request.spec.family != Family(f))
      continue;  // it failed: the error went to the status bar
    // Every form that ran agrees with the reference (fp32, L = 16: sums of 16 terms of size ~1
    // round to ~1e-6; 1e-3 relative only catches a form that is wrong, not rounding).
    for (const auto& r : c->forms)
      if (r.ok) EXPECT_LT(r.diff.max_rel, 1e-3) << to_string(r.form) << " of family " << f;
  }
}

TEST(Explorer, SteppingAtL256D64IsCheap) {
  app();
  MainWindow w(/*persist=*/false);
  w.panel()->lengthBox()->setValue(256);
  for (QSpinBox* s : w.panel()->findChildren<QSpinBox*>())
    if (s->toolTip().startsWith("d_")) s->setValue(64);
  w.recompute();
  ASSERT_TRUE(w.waitIdle(120000));
  ASSERT_EQ(w.controller()->latest()->request.shape.Dk, 64);
  RecurrenceView* r = w.recurrenceView();
  ASSERT_EQ(r->positions(), 256);
  w.tabs()->setCurrentWidget(r);
  r->setPosition(0);
  QElapsedTimer clock;
  clock.start();
  for (int i = 0; i < 100; ++i) {
    r->stepForward();
    QApplication::processEvents();  // count the repaint too
  }
  const double per_step = clock.elapsed() / 100.0;
  std::printf("recurrence view, L=256 d=64: %.2f ms per step\n", per_step);
  // A 30 steps/s animation has 33 ms per frame; a step must fit with room to spare even on a
  // loaded machine (measured ~4 ms on 2 shared cores).
  EXPECT_LT(per_step, 20.0);
}

TEST(Explorer, ModelSettingsPersistAcrossSessions) {
  app();
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, dir.path());
  {
    MainWindow w(/*persist=*/true);
    w.panel()->lengthBox()->setValue(77);
    w.panel()->familyBox()->setCurrentIndex(int(Family::Lion));
    w.close();
    w.waitIdle(60000);
  }
  MainWindow again(/*persist=*/true);
  EXPECT_EQ(again.panel()->lengthBox()->value(), 77);
  EXPECT_EQ(again.panel()->familyBox()->currentIndex(), int(Family::Lion));
  again.waitIdle(60000);
}

TEST(Explorer, RowScalingFromTheAttentionViewRecomputes) {
  auto w = small_window(16);
  auto* box = w->attentionView()->findChild<QCheckBox*>();
  QCheckBox* row = nullptr;
  for (QCheckBox* c : w->attentionView()->findChildren<QCheckBox*>())
    if (c->text().startsWith("Row scaling")) row = c;
  ASSERT_TRUE(box && row);
  row->setChecked(true);
  EXPECT_TRUE(w->panel()->normalizeBox()->isChecked());
  w->recompute();
  ASSERT_TRUE(w->waitIdle(60000));
  ASSERT_TRUE(w->controller()->latest()->request.spec.normalize);
  // Row-scaled causal attention: every row of A sums to 1 (A = C⁻¹(QKᵀ ⊙ M), C_i = row sum).
  // fp32 sums of 16 terms: 1e-4 is ~100x the rounding.
  Heatmap* a = w->attentionView()->attentionMap();
  for (int i = 0; i < 16; ++i) {
    double sum = 0;
    for (int j = 0; j < 16; ++j) sum += a->value(i, j);
    EXPECT_NEAR(sum, 1.0, 1e-4) << "row " << i;
  }
}

// The app opens on a bundled trained model in the inspector tab, and a trained model's
// attention for the typed text reaches the attention view unchanged; the next explorer result
// takes the view back.
TEST(Explorer, InspectorTabOpensOnABundledModelAndSendsItsAttention) {
  auto w = small_window(16);
  InspectorView* insp = w->inspectorView();
  ASSERT_NE(w->tabs()->indexOf(insp), -1);
  for (int i = 0; i < 1200 && insp->busy(); ++i) QTest::qWait(25);
  ASSERT_FALSE(insp->busy());
  ASSERT_TRUE(insp->runnable()) << insp->errorText().toStdString();
  EXPECT_NE(insp->path().indexOf("assets"), -1) << insp->path().toStdString();
  const int L = insp->attentionHeatmap()->rows();
  ASSERT_GT(L, 1);
  insp->emitAttention();
  EXPECT_EQ(w->tabs()->currentWidget(), w->attentionView());
  EXPECT_TRUE(w->attentionView()->showingCheckpoint());
  Heatmap* a = w->attentionView()->attentionMap();
  ASSERT_EQ(a->rows(), L);
  for (int i = 0; i < L; ++i)
    for (int j = 0; j < L; ++j)
      ASSERT_EQ(a->value(i, j), insp->attentionHeatmap()->value(i, j)) << i << "," << j;
  w->recompute();
  ASSERT_TRUE(w->waitIdle(60000));
  EXPECT_FALSE(w->attentionView()->showingCheckpoint());
  EXPECT_EQ(a->rows(), 16);
}

TEST(Explorer, OpeningABadCheckpointReportsItAndKeepsTheWindow) {
  auto w = small_window(16);
  QTemporaryDir dir;
  const QString bad = dir.filePath("broken.safetensors");
  QFile f(bad);
  ASSERT_TRUE(f.open(QIODevice::WriteOnly));
  f.write("\xff\xff\xff\xff\xff\xff\xff\x7f{");  // header length far beyond the file
  f.close();
  QString error;
  EXPECT_FALSE(w->openCheckpoint(bad, &error));
  EXPECT_NE(error.indexOf("broken.safetensors"), -1) << error.toStdString();
  EXPECT_EQ(w->tabs()->currentWidget(), w->inspectorView());
  EXPECT_FALSE(w->inspectorView()->errorText().isEmpty());
}

// Only the view on screen redraws when a result arrives; a hidden view gets it when shown.
TEST(Explorer, HiddenViewsTakeTheResultWhenShown) {
  auto w = small_window(16);
  w->tabs()->setCurrentWidget(w->attentionView());
  quint64 shown = 0;
  QObject::connect(w.get(), &MainWindow::resultShown, [&](quint64 g) { shown = g; });
  w->panel()->seedBox()->setValue(w->panel()->seedBox()->value() + 1);
  w->recompute();
  const quint64 gen = w->controller()->generation();
  // The whole result (not the attention preview) must have arrived; waitIdle would flush.
  for (int i = 0; i < 2400 && (shown != gen || w->controller()->busy()); ++i) QTest::qWait(25);
  ASSERT_EQ(shown, gen);
  ASSERT_TRUE(w->attentionView()->computed() && w->attentionView()->computed()->complete);
  ASSERT_TRUE(w->recurrenceView()->computed());
  EXPECT_NE(w->recurrenceView()->computed()->generation, gen) << "hidden view redrew";
  w->tabs()->setCurrentWidget(w->recurrenceView());
  EXPECT_EQ(w->recurrenceView()->computed()->generation, gen);
  EXPECT_NE(w->formsView()->computed()->generation, gen);
  ASSERT_TRUE(w->waitIdle(60000));  // flushes every view
  EXPECT_EQ(w->formsView()->computed()->generation, gen);
}

// Issue 8: the event loop keeps turning while a large compute runs. A 5 ms timer ticks on the
// UI thread from the request until the result is on screen; the longest gap between ticks must
// stay far below the compute's own duration. The bound (250 ms) is loose for a loaded CI
// machine (other tests share its two cores) yet several times shorter than the compute, which
// the test requires to take over a second, so a compute on the UI thread would fail it.
TEST(Explorer, EventLoopStaysResponsiveDuringALargeCompute) {
  auto w = small_window(16);
  ModelPanel* p = w->panel();
  p->familyBox()->setCurrentIndex(int(Family::Lion));
  p->decayBox()->setCurrentIndex(int(Decay::S));
  p->directionBox()->setCurrentIndex(int(Direction::Bidirectional));
  p->dkBox()->setValue(64);
  p->dvBox()->setValue(64);
  p->lengthBox()->setValue(8192);
  // Eight heads: one LION head at L = 8192 became fast enough (under a second) once the core's
  // L x L forms split their rows over the cores, which left the test nothing to measure.
  p->headsBox()->setValue(8);
  QElapsedTimer clock;
  qint64 last = 0, worst = 0;
  QTimer tick;
  tick.setInterval(5);
  QObject::connect(&tick, &QTimer::timeout, [&] {
    const qint64 now = clock.elapsed();
    worst = std::max(worst, now - last);
    last = now;
  });
  bool shown = false;
  QObject::connect(w.get(), &MainWindow::resultShown, [&](quint64) { shown = true; });
  clock.start();
  tick.start();
  w->recompute();
  while (!shown && clock.elapsed() < 300000) QTest::qWait(1);
  tick.stop();
  ASSERT_TRUE(shown) << "no result in 300 s";
  const double compute_ms = w->controller()->latest()->total_ms;
  ASSERT_GT(compute_ms, 1000.0) << "the compute is too small to tell";
  std::cout << "compute " << compute_ms << " ms, longest UI gap " << worst << " ms\n";
  EXPECT_LT(worst, 250) << "the UI thread stalled " << worst << " ms during a " << compute_ms
                        << " ms compute";
}

// The attention matrix is shown before the forms, traces and masks: a preview of the same
// generation holding A (equal to the whole result's A) arrives first, then the whole result.
TEST(Explorer, AttentionArrivesAheadOfTheRest) {
  auto w = small_window(64);
  w->tabs()->setCurrentWidget(w->attentionView());
  std::vector<std::shared_ptr<const Computed>> seen;
  QObject::connect(w->controller(), &ComputeController::preview,
                   [&](std::shared_ptr<const Computed> p) { seen.push_back(p); });
  QObject::connect(w->controller(), &ComputeController::computed,
                   [&](std::shared_ptr<const Computed> c) { seen.push_back(c); });
  w->panel()->seedBox()->setValue(w->panel()->seedBox()->value() + 1);
  w->recompute();
  ASSERT_TRUE(w->waitIdle(60000));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_FALSE(seen[0]->complete);
  EXPECT_TRUE(seen[1]->complete);
  EXPECT_EQ(seen[0]->generation, seen[1]->generation);
  EXPECT_TRUE(seen[0]->forms.empty() && seen[0]->masks.empty());
  EXPECT_FALSE(seen[1]->masks.empty());
  EXPECT_EQ(seen[0]->attention.attention.values(), seen[1]->attention.attention.values());
  // After the whole result the mask panel holds the mask, not the preview's note.
  EXPECT_GT(w->attentionView()->maskMap()->rows(), 0);
}

TEST(ComputeController, ANewerRequestSupersedesAStaleOne) {
  app();
  ComputeController c;
  QSignalSpy got(&c, &ComputeController::computed);
  ComputeRequest slow, fast;
  slow.shape.L = 1024;
  fast.shape.L = 16;
  c.request(slow);
  const uint64_t newest = c.request(fast);
  ASSERT_TRUE(got.wait(60000));
  QTest::qWait(300);  // the stale one, if it were delivered, would have arrived by now
  ASSERT_EQ(got.count(), 1);
  auto r = got.at(0).at(0).value<std::shared_ptr<const Computed>>();
  EXPECT_EQ(r->generation, newest);
  EXPECT_EQ(r->request.shape.L, 16);
  EXPECT_FALSE(c.busy());
}

TEST(ComputeController, AnErrorArrivesAsASignal) {
  app();
  ComputeController c;
  QSignalSpy failed(&c, &ComputeController::failed);
  ComputeRequest bad;
  bad.shape.Dk = 0;  // no model takes an empty key dimension
  c.request(bad);
  ASSERT_TRUE(failed.wait(60000));
  EXPECT_FALSE(failed.at(0).at(1).toString().isEmpty());
}

}  // namespace
