// The checkpoint inspector under the offscreen platform: what it shows must be what the core
// reads and computes (Summary, TinyModel::forward), and bad files must not bring it down.
#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <QApplication>
#include <QDropEvent>
#include <QMimeData>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTest>
#include <QTreeWidget>
#include <QUrl>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/checkpoint/checkpoint.h"
#include "core/tiny/tiny_model.h"
#include "widgets/heatmap.h"
#include "widgets/inspector/histogram.h"
#include "widgets/inspector/inspector_view.h"

namespace {

QApplication* app() {
  static int argc = 1;
  static char name[] = "test_inspector_view";
  static char* argv[] = {name, nullptr};
  if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  static QApplication* a = new QApplication(argc, argv);
  return a;
}

using linscope::widgets::InspectorView;
namespace ck = linscope::checkpoint;
namespace tiny = linscope::tiny;

QString asset(const char* model) {
  return QString::fromStdString(tiny::find_assets_dir()) + "/" + model;
}

// Waits out the debounce and any run in flight (newest text wins).
void wait_idle(InspectorView& v) {
  for (int i = 0; i < 1200 && v.busy(); ++i) QTest::qWait(25);
  ASSERT_FALSE(v.busy()) << "the run did not finish in 30 s";
}

void collect_leaves(QTreeWidgetItem* item, std::vector<QTreeWidgetItem*>& out) {
  if (item->childCount() == 0) out.push_back(item);
  for (int i = 0; i < item->childCount(); ++i) collect_leaves(item->child(i), out);
}

std::vector<QTreeWidgetItem*> leaves(QTreeWidget* tree) {
  std::vector<QTreeWidgetItem*> out;
  for (int i = 0; i < tree->topLevelItemCount(); ++i) collect_leaves(tree->topLevelItem(i), out);
  return out;
}

TEST(InspectorView, LionDShowsItsStaticDecaysAsALayerByHeadHeatmap) {
  app();
  InspectorView v;
  QString err;
  ASSERT_TRUE(v.open(asset("lion_d_causal"), &err)) << err.toStdString();
  EXPECT_TRUE(v.errorText().isEmpty());
  const ck::Summary s = ck::Checkpoint::open(asset("lion_d_causal").toStdString()).summary();
  ASSERT_EQ(s.variant, "LION-D");
  ASSERT_EQ(int64_t(s.decays.size()), s.layers);
  auto* map = v.decayHeatmap();
  ASSERT_EQ(map->rows(), int(s.layers));
  ASSERT_EQ(map->cols(), int(s.heads));
  auto* mem = v.memoryHeatmap();
  for (int i = 0; i < map->rows(); ++i)
    for (int j = 0; j < map->cols(); ++j) {
      EXPECT_FLOAT_EQ(map->value(i, j), float(s.decays[size_t(i)].lambda[size_t(j)]));
      EXPECT_FLOAT_EQ(mem->value(i, j), float(1.0 / (1.0 - s.decays[size_t(i)].lambda[size_t(j)])));
    }
  // The histogram counts every decay once.
  int total = 0;
  for (int c : v.decayHistogram()->counts()) total += c;
  EXPECT_EQ(total, int(s.layers * s.heads));
}

TEST(InspectorView, TreeHasOneLeafPerTensorNamedByItsPath) {
  app();
  InspectorView v;
  ASSERT_TRUE(v.open(asset("gateloop")));
  const auto& tensors = v.summary().tensors;
  ASSERT_FALSE(tensors.empty());
  const auto ls = leaves(v.tensorTree());
  ASSERT_EQ(ls.size(), tensors.size());
  std::set<std::string> names;
  for (auto* l : ls) names.insert(l->data(0, Qt::UserRole).toString().toStdString());
  for (const auto& t : tensors) EXPECT_EQ(names.count(t.name), 1u) << t.name;
  // A leaf's row shows the tensor's dtype and its last name component.
  for (auto* l : ls) {
    const std::string full = l->data(0, Qt::UserRole).toString().toStdString();
    EXPECT_TRUE(full.size() >= size_t(l->text(0).size()) &&
                full.substr(full.size() - size_t(l->text(0).size())) == l->text(0).toStdString());
    EXPECT_FALSE(l->text(1).isEmpty());
  }
}

TEST(InspectorView, LionSGatesForTextAreTheForwardPassGates) {
  app();
  InspectorView v;
  ASSERT_TRUE(v.open(asset("lion_s_bidirectional")));
  ASSERT_TRUE(v.runnable());
  const std::string text = "the cat sat on the mat.";
  const int L = int(text.size());
  QSignalSpy shown(&v, &InspectorView::gatesShown);
  v.setText(QString::fromStdString(text));
  wait_idle(v);
  ASSERT_GE(shown.count(), 1);
  ASSERT_TRUE(v.lastRun().error.isEmpty()) << v.lastRun().error.toStdString();
  const auto model = tiny::TinyModel::load(asset("lion_s_bidirectional").toStdString());
  const auto f = model.forward(text, /*attention=*/true);
  const int H = int(model.config().n_heads);
  for (int layer = 0; layer < int(f.layers.size()); ++layer) {
    auto* map = v.gateHeatmap(layer);
    ASSERT_NE(map, nullptr);
    ASSERT_EQ(map->rows(), H);
    ASSERT_EQ(map->cols(), L);
    const auto& lambda = f.layers[size_t(layer)].gates.at("lambda");  // [H, L]
    for (int h = 0; h < H; ++h)
      for (int t = 0; t < L; ++t) {
        const float x = map->value(h, t);
        EXPECT_GT(x, 0.f);
        EXPECT_LT(x, 1.f);
        // Same forward on the same tokens: identical floats.
        EXPECT_EQ(x, lambda[h * L + t]);
      }
  }
  // The attention heatmap is the forward's attention for the selected layer and head.
  v.selectAttention(1, 2);
  auto* att = v.attentionHeatmap();
  ASSERT_EQ(att->rows(), L);
  const auto& A = f.layers[1].attention;  // [H, L, L]
  for (int i = 0; i < L; ++i)
    for (int j = 0; j < L; ++j) EXPECT_EQ(att->value(i, j), A[(2 * L + i) * L + j]);
  // ... and what the attention view receives.
  QSignalSpy sent(&v, &InspectorView::attentionForText);
  QPushButton* send = nullptr;
  for (auto* b : v.findChildren<QPushButton*>())
    if (b->text().contains("Implicit attention")) send = b;
  ASSERT_NE(send, nullptr);
  send->click();
  ASSERT_EQ(sent.count(), 1);
  const auto args = sent.takeFirst();
  const auto m = args[0].value<QVector<double>>();
  ASSERT_EQ(args[1].toInt(), L);
  ASSERT_EQ(m.size(), L * L);
  EXPECT_DOUBLE_EQ(m[5 * L + 3], double(A[(2 * L + 5) * L + 3]));
  EXPECT_TRUE(args[2].toString().contains("layer 1"));
}

TEST(InspectorView, CharactersOutsideTheVocabularyAreReplacedAndListed) {
  app();
  InspectorView v;
  ASSERT_TRUE(v.open(asset("lion_s_bidirectional")));
  v.setText("A cat 7");
  wait_idle(v);
  ASSERT_TRUE(v.lastRun().error.isEmpty()) << v.lastRun().error.toStdString();
  EXPECT_EQ(v.replacedText(), QString::fromUtf8("replaced: A\u2192a, 7\u2192' '"));
  EXPECT_EQ(v.gateHeatmap(0)->cols(), 7);
}

TEST(InspectorView, NewestTextWins) {
  app();
  InspectorView v;
  ASSERT_TRUE(v.open(asset("deltanet")));
  v.setText("a");
  QTest::qWait(250);  // let the first run start
  v.setText("we are met on a great battle-field of that war.");
  v.setText("we are met.");
  wait_idle(v);
  EXPECT_EQ(v.lastRun().tokens.size(), 11);
  EXPECT_EQ(v.gateHeatmap(1)->cols(), 11);
  // DeltaNet shows β_t in (0, 1).
  EXPECT_GT(v.gateHeatmap(1)->value(0, 0), 0.f);
  EXPECT_LT(v.gateHeatmap(1)->value(0, 0), 1.f);
}

TEST(InspectorView, GateLoopShowsMagnitudeAndPhasePerLayer) {
  app();
  InspectorView v;
  ASSERT_TRUE(v.open(asset("gateloop")));
  v.setText("the war.");
  wait_idle(v);
  const auto model = tiny::TinyModel::load(asset("gateloop").toStdString());
  const auto f = model.forward("the war.");
  const auto& mag = f.layers[0].gates.at("magnitude");  // [H, L, dh]
  const int64_t L = 8, dh = mag.dim(2);
  double mean = 0;
  for (int64_t c = 0; c < dh; ++c) mean += mag[(1 * L + 3) * dh + c];
  mean /= double(dh);
  // The heatmap shows the channel mean; float32 of a double mean of <= 64 values.
  EXPECT_NEAR(v.gateHeatmap(0, 0)->value(1, 3), mean, 1e-6);
  ASSERT_NE(v.gateHeatmap(0, 1), nullptr) << "phase";
  int n = 0;
  for (int c : v.gateHistogram(0, 0)->counts()) n += c;
  EXPECT_EQ(n, mag.numel()) << "the histogram holds every channel's value";
}

TEST(InspectorView, MalformedFileShowsAnErrorNamingItAndDoesNotCrash) {
  app();
  InspectorView v;
  ASSERT_TRUE(v.open(asset("lion_d_causal")));
  const auto path = std::filesystem::temp_directory_path() /
                    ("linscope_insp_garbage_" + std::to_string(::getpid()) + ".safetensors");
  std::ofstream(path) << "this is not a safetensors file at all, just garbage bytes";
  QString err;
  EXPECT_FALSE(v.open(QString::fromStdString(path.string()), &err));
  const QString name = QString::fromStdString(path.filename().string());
  EXPECT_TRUE(err.contains(name)) << err.toStdString();
  EXPECT_TRUE(v.errorText().contains(name)) << v.errorText().toStdString();
  EXPECT_EQ(v.tensorTree()->topLevelItemCount(), 0);
  EXPECT_FALSE(v.runnable());
  // A missing path too.
  EXPECT_FALSE(v.open("/nonexistent/linscope/model.safetensors", &err));
  EXPECT_FALSE(v.errorText().isEmpty());
  // Opening a good checkpoint afterwards clears the error.
  EXPECT_TRUE(v.open(asset("lion_d_causal")));
  EXPECT_TRUE(v.errorText().isEmpty());
  std::filesystem::remove(path);
}

TEST(InspectorView, DroppingAFolderOpensIt) {
  app();
  InspectorView v;
  QMimeData mime;
  mime.setUrls({QUrl::fromLocalFile(asset("deltanet"))});
  QDragEnterEvent enter(QPoint(5, 5), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&v, &enter);
  EXPECT_TRUE(enter.isAccepted());
  QDropEvent drop(QPointF(5, 5), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&v, &drop);
  EXPECT_EQ(v.summary().architecture, "linscope-deltanet");
}

TEST(InspectorView, OpensOnABundledModelWithASentence) {
  app();
  InspectorView v;
  v.resize(1600, 1000);
  QString err;
  ASSERT_TRUE(v.openDefault(&err)) << err.toStdString();
  wait_idle(v);
  EXPECT_TRUE(v.runnable());
  EXPECT_FALSE(v.text().isEmpty());
  EXPECT_GT(v.lastRun().tokens.size(), 10);
  EXPECT_TRUE(v.lastRun().replaced.isEmpty()) << "the default sentence is in the vocabulary";
  if (qEnvironmentVariableIsSet("LINSCOPE_SHOT")) {
    v.show();
    QTest::qWait(100);
    v.grab().save(qEnvironmentVariable("LINSCOPE_SHOT"));
    for (const char* m : {"lion_s_bidirectional", "lion_d_causal", "gateloop"}) {
      v.open(asset(m));
      wait_idle(v);
      QTest::qWait(50);
      v.grab().save(
          qEnvironmentVariable("LINSCOPE_SHOT").replace(".png", QString("_%1.png").arg(m)));
    }
  }
}

}  // namespace
