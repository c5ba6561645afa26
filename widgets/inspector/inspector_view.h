// The checkpoint inspector (issue 5): open a trained checkpoint (file, directory, sharded
// index; dialog, drag and drop or the command line) and see what it is, its tensors, its
// static decays with their memory lengths 1/(1−λ), and, for the bundled tiny models linscope
// can run, the data-dependent gates and the real attention matrix for text typed by the user.
// Models run off the UI thread; the newest text wins.
#pragma once
#include <QFutureWatcher>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QVector>
#include <QWidget>
#include <memory>
#include <vector>

#include "core/checkpoint/summary.h"
#include "widgets/inspector/gate_run.h"

class QComboBox;
class QFormLayout;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QStackedWidget;
class QTabWidget;
class QTableWidget;
class QTreeWidget;
class QVBoxLayout;

namespace linscope::tiny {
class TinyModel;
}

namespace linscope::widgets {

class Heatmap;
class Histogram;

class InspectorView : public QWidget {
  Q_OBJECT
 public:
  explicit InspectorView(QWidget* parent = nullptr);
  ~InspectorView() override;

  // Opens a .safetensors file, a model.safetensors.index.json or a directory holding either.
  // On failure shows the message inline, clears the views, returns false and sets *error.
  bool open(const QString& path, QString* error = nullptr);
  // Opens the first bundled tiny model and types a sentence from its corpus.
  bool openDefault(QString* error = nullptr);
  // Replaces the text the runnable model reads (debounced like typing).
  void setText(const QString& text);
  QString text() const;

  // State, for the main window and tests.
  const checkpoint::Summary& summary() const { return summary_; }
  QString path() const { return path_; }
  QString errorText() const { return error_text_; }
  bool runnable() const { return model_ != nullptr; }
  bool busy() const;
  const GateRun& lastRun() const { return run_; }
  QTreeWidget* tensorTree() const { return tree_; }
  Heatmap* decayHeatmap() const { return decay_map_; }
  Heatmap* memoryHeatmap() const { return memory_map_; }
  Histogram* decayHistogram() const { return decay_hist_; }
  // Heads x tokens heatmap of gate `gate` (index into gateKeys) of a layer; null if none.
  Heatmap* gateHeatmap(int layer, int gate = 0) const;
  Histogram* gateHistogram(int layer, int gate = 0) const;
  Heatmap* attentionHeatmap() const { return attention_map_; }
  QTableWidget* gateTable() const { return gate_table_; }
  QTabWidget* tabs() const { return tabs_; }
  QString replacedText() const;
  void selectAttention(int layer, int head);
  // Emits attentionForText for the selected layer and head ("Show in attention view").
  void emitAttention();

 signals:
  void opened(const QString& path);
  // The newest text's gates and attention are on screen.
  void gatesShown();
  // "Show in attention view": the selected layer/head's attention matrix (row-major L x L).
  void attentionForText(QVector<double> matrix, int L, QString title);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildUi();
  QWidget* buildDecaysTab();
  QWidget* buildRunTab();
  QWidget* buildGatesTab();
  void showError(const QString& message);
  void clearViews();
  void showSummary();
  void showDecays();
  void showGateStats();
  void buildGatePanels();
  void requestRun();
  void launchRun();
  void onRunFinished();
  void showRun();
  void showAttention();
  void chooseFile();
  void chooseDirectory();

  checkpoint::Summary summary_;
  QString path_, error_text_;
  std::shared_ptr<const tiny::TinyModel> model_;
  quint64 model_id_ = 0;  // bumped on every open; a run for an older model is discarded
  GateRun run_;
  QFutureWatcher<GateRun>* watcher_;
  // Our own flag, not watcher_->isRunning(): the future stops running before its finished
  // signal is delivered, and until then the result is not on screen.
  bool running_ = false;
  bool pending_ = false;  // text changed while a run was in flight
  QTimer debounce_;

  QLabel* path_label_;
  QComboBox* bundled_;
  QLabel* error_label_;
  QFormLayout* form_;
  QLabel* tree_label_;
  QTreeWidget* tree_;
  QTabWidget* tabs_;
  int decays_tab_ = 0, run_tab_ = 0, gates_tab_ = 0;
  // Static decays.
  QStackedWidget* decay_stack_;
  QLabel* decay_message_;
  QLabel* decay_rule_;
  Heatmap* decay_map_;
  Heatmap* memory_map_;
  Histogram* decay_hist_;
  // Run on text.
  QStackedWidget* run_stack_;
  QLabel* run_message_;
  QPlainTextEdit* text_;
  QLabel* replaced_;
  QLabel* run_status_;
  QWidget* gate_panels_;
  QVBoxLayout* gate_layout_;
  std::vector<std::vector<Heatmap*>> gate_maps_;
  std::vector<std::vector<Histogram*>> gate_hists_;
  std::vector<std::vector<QLabel*>> gate_notes_;
  QComboBox* att_layer_;
  QComboBox* att_head_;
  Heatmap* attention_map_;
  QPushButton* send_attention_;
  // Gate statistics.
  QLabel* gates_message_;
  QTableWidget* gate_table_;
};

}  // namespace linscope::widgets
