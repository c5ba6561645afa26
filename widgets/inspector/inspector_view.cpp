#include "widgets/inspector/inspector_view.h"

#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>
#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>

#include "core/checkpoint/checkpoint.h"
#include "core/tiny/tiny_model.h"
#include "widgets/heatmap.h"
#include "widgets/inspector/histogram.h"
#include "widgets/inspector/tensor_tree.h"
#include "widgets/inspector/token_ticker.h"

namespace linscope::widgets {
namespace {

constexpr int kDebounceMs = 200;
// A sentence from the bundled models' training corpus, so it needs no replacements.
const char* kDefaultText =
    "Now we are engaged in a great civil war, testing whether that nation can long endure.";

QString num(double v, int digits = 4) {
  return QString::number(v, 'g', digits);
}

QString memoryText(double lambda) {
  if (lambda >= 1.0) return QString::fromUtf8("∞ (λ = 1: nothing is forgotten)");
  return QString("%1 tokens").arg(num(1.0 / (1.0 - lambda), 4));
}

// Integer ticks on an axis (layers, heads) starting at 0.
void setIndexTicks(QCPAxis* axis, int n) {
  QSharedPointer<QCPAxisTickerText> t(new QCPAxisTickerText);
  const int step = std::max(1, n / 16);
  for (int i = 0; i < n; i += step) t->addTick(i, QString::number(i));
  axis->setTicker(t);
}

QLabel* note(const QString& text) {
  auto* l = new QLabel(text);
  l->setWordWrap(true);
  l->setStyleSheet("color: #555;");
  return l;
}

QString tokenAt(const QStringList& tokens, int i) {
  return i >= 0 && i < tokens.size() ? tokens[i] : QString("?");
}

}  // namespace

InspectorView::InspectorView(QWidget* parent) : QWidget(parent) {
  setAcceptDrops(true);
  watcher_ = new QFutureWatcher<GateRun>(this);
  connect(watcher_, &QFutureWatcher<GateRun>::finished, this, &InspectorView::onRunFinished);
  debounce_.setSingleShot(true);
  debounce_.setInterval(kDebounceMs);
  connect(&debounce_, &QTimer::timeout, this, &InspectorView::requestRun);
  buildUi();
  clearViews();
}

InspectorView::~InspectorView() {
  // The run holds its own reference to the model; waiting keeps it from outliving the app.
  watcher_->waitForFinished();
}

void InspectorView::buildUi() {
  auto* top = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout;
  auto* open_file = new QPushButton("Open file…");
  open_file->setToolTip("A .safetensors file or a model.safetensors.index.json");
  auto* open_dir = new QPushButton("Open folder…");
  open_dir->setToolTip("A Hugging Face style folder: config.json + model.safetensors (or shards)");
  connect(open_file, &QPushButton::clicked, this, &InspectorView::chooseFile);
  connect(open_dir, &QPushButton::clicked, this, &InspectorView::chooseDirectory);
  bar->addWidget(open_file);
  bar->addWidget(open_dir);
  bar->addWidget(new QLabel("Bundled:"));
  bundled_ = new QComboBox;
  bundled_->setToolTip("The tiny models trained by tools/train/train.py, shipped in assets/");
  try {
    for (const auto& m : tiny::bundled_models(tiny::find_assets_dir()))
      bundled_->addItem(QString::fromStdString(m));
  } catch (const std::exception&) {
    bundled_->setEnabled(false);
  }
  bundled_->setCurrentIndex(-1);
  bundled_->setPlaceholderText("choose a model");
  connect(bundled_, &QComboBox::activated, this, [this](int i) {
    try {
      open(QString::fromStdString(tiny::find_assets_dir()) + "/" + bundled_->itemText(i));
    } catch (const std::exception& e) {
      showError(QString::fromStdString(e.what()));
    }
  });
  bar->addWidget(bundled_);
  path_label_ = new QLabel;
  path_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  bar->addWidget(path_label_, 1);
  auto* hint = new QLabel("or drop a file or folder here");
  hint->setStyleSheet("color: #888;");
  bar->addWidget(hint);
  top->addLayout(bar);

  error_label_ = new QLabel;
  error_label_->setWordWrap(true);
  error_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_label_->setStyleSheet(
      "QLabel { background: #fde8e8; color: #8a1010; border: 1px solid #e0a0a0; padding: 6px; }");
  error_label_->hide();
  top->addWidget(error_label_);

  auto* split = new QSplitter(Qt::Horizontal);
  auto* left = new QWidget;
  auto* left_layout = new QVBoxLayout(left);
  left_layout->setContentsMargins(0, 0, 0, 0);
  auto* box = new QGroupBox("Checkpoint");
  form_ = new QFormLayout(box);
  form_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  left_layout->addWidget(box);
  tree_label_ = new QLabel("Tensors");
  tree_label_->setStyleSheet("font-weight: bold;");
  left_layout->addWidget(tree_label_);
  tree_ = new QTreeWidget;
  tree_->setAlternatingRowColors(true);
  tree_->setUniformRowHeights(true);
  left_layout->addWidget(tree_, 1);
  split->addWidget(left);

  tabs_ = new QTabWidget;
  run_tab_ = tabs_->addTab(buildRunTab(), "Run on text");
  decays_tab_ = tabs_->addTab(buildDecaysTab(), "Static decays");
  gates_tab_ = tabs_->addTab(buildGatesTab(), "Gate statistics");
  split->addWidget(tabs_);
  split->setStretchFactor(0, 0);
  split->setStretchFactor(1, 1);
  split->setSizes({460, 1140});
  top->addWidget(split, 1);
}

QWidget* InspectorView::buildDecaysTab() {
  decay_stack_ = new QStackedWidget;
  auto* page = new QWidget;
  auto* v = new QVBoxLayout(page);
  decay_rule_ = note(QString());
  v->addWidget(decay_rule_);
  auto* maps = new QHBoxLayout;
  decay_map_ = new Heatmap;
  decay_map_->setAxisLabels("head", "layer");
  decay_map_->setValueLabel("λ");
  memory_map_ = new Heatmap;
  memory_map_->setAxisLabels("head", "layer");
  memory_map_->setValueLabel("1/(1−λ) tokens (log)");
  maps->addWidget(decay_map_);
  maps->addWidget(memory_map_);
  v->addLayout(maps, 3);
  decay_hist_ = new Histogram;
  decay_hist_->setValueLabel("λ");
  v->addWidget(decay_hist_, 2);
  decay_stack_->addWidget(page);
  decay_message_ = new QLabel;
  decay_message_->setWordWrap(true);
  decay_message_->setAlignment(Qt::AlignCenter);
  decay_message_->setStyleSheet("color: #555; font-size: 11pt; padding: 40px;");
  decay_stack_->addWidget(decay_message_);
  return decay_stack_;
}

QWidget* InspectorView::buildRunTab() {
  run_stack_ = new QStackedWidget;
  auto* page = new QWidget;
  auto* v = new QVBoxLayout(page);
  auto* row = new QHBoxLayout;
  auto* prompt = new QLabel("Text:");
  prompt->setStyleSheet("font-weight: bold;");
  row->addWidget(prompt, 0, Qt::AlignTop);
  text_ = new QPlainTextEdit;
  text_->setPlaceholderText("Type text; the model runs on it as you type");
  text_->setFixedHeight(text_->fontMetrics().lineSpacing() * 3 + 12);
  connect(text_, &QPlainTextEdit::textChanged, this, [this] { debounce_.start(); });
  row->addWidget(text_, 1);
  v->addLayout(row);
  auto* info = new QHBoxLayout;
  replaced_ = new QLabel;
  replaced_->setStyleSheet("color: #8a5a00;");
  replaced_->setToolTip(
      "The tiny models know only the characters of their training corpus; others are mapped to "
      "their lowercase form when it is known, else to a space");
  run_status_ = new QLabel;
  run_status_->setStyleSheet("color: #555;");
  info->addWidget(replaced_, 1);
  info->addWidget(run_status_);
  v->addLayout(info);

  auto* split = new QSplitter(Qt::Horizontal);
  auto* scroll = new QScrollArea;
  scroll->setWidgetResizable(true);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);  // rows fit the width
  gate_panels_ = new QWidget;
  gate_layout_ = new QVBoxLayout(gate_panels_);
  gate_layout_->setContentsMargins(0, 0, 0, 0);
  scroll->setWidget(gate_panels_);
  split->addWidget(scroll);

  auto* att = new QWidget;
  auto* av = new QVBoxLayout(att);
  av->setContentsMargins(0, 0, 0, 0);
  auto* pick = new QHBoxLayout;
  pick->addWidget(new QLabel("Attention of layer"));
  att_layer_ = new QComboBox;
  pick->addWidget(att_layer_);
  pick->addWidget(new QLabel("head"));
  att_head_ = new QComboBox;
  pick->addWidget(att_head_);
  pick->addStretch(1);
  av->addLayout(pick);
  send_attention_ = new QPushButton("Show in the Implicit attention tab");
  send_attention_->setToolTip(
      "Send this matrix to the Implicit attention view (zoom, hover, export)");
  connect(send_attention_, &QPushButton::clicked, this, &InspectorView::emitAttention);
  attention_map_ = new Heatmap;
  attention_map_->setAxisLabels("key token j", "query token i");
  attention_map_->setValueLabel("A[i, j]");
  av->addWidget(attention_map_, 1);
  av->addWidget(
      note("The model's implicit attention matrix for this text: y_i = Σ_j A[i, j] v_j "
           "(row-normalized where the model normalizes). Computed by the core, not "
           "approximated."));
  av->addWidget(send_attention_, 0, Qt::AlignLeft);
  connect(att_layer_, &QComboBox::currentIndexChanged, this, &InspectorView::showAttention);
  connect(att_head_, &QComboBox::currentIndexChanged, this, &InspectorView::showAttention);
  split->addWidget(att);
  scroll->setMinimumWidth(360);
  att->setMinimumWidth(300);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  split->setSizes({660, 480});  // gates get the width (tokens run along x); attention is square
  v->addWidget(split, 1);
  run_stack_->addWidget(page);

  run_message_ = new QLabel;
  run_message_->setWordWrap(true);
  run_message_->setAlignment(Qt::AlignCenter);
  run_message_->setStyleSheet("color: #555; font-size: 11pt; padding: 40px;");
  run_stack_->addWidget(run_message_);
  return run_stack_;
}

QWidget* InspectorView::buildGatesTab() {
  auto* w = new QWidget;
  auto* v = new QVBoxLayout(w);
  gates_message_ = note(QString());
  v->addWidget(gates_message_);
  gate_table_ = new QTableWidget;
  gate_table_->setColumnCount(8);
  gate_table_->setHorizontalHeaderLabels(
      {"layer", "tensor", "role", "count", "mean", "std", "min", "max"});
  gate_table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  gate_table_->setAlternatingRowColors(true);
  gate_table_->verticalHeader()->hide();
  gate_table_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
  v->addWidget(gate_table_, 1);
  return w;
}

bool InspectorView::busy() const {
  return debounce_.isActive() || pending_ || running_;
}

QString InspectorView::text() const {
  return text_->toPlainText();
}

void InspectorView::setText(const QString& text) {
  text_->setPlainText(text);  // textChanged starts the debounce
}

QString InspectorView::replacedText() const {
  return replaced_->text();
}

Heatmap* InspectorView::gateHeatmap(int layer, int gate) const {
  if (layer < 0 || layer >= int(gate_maps_.size())) return nullptr;
  if (gate < 0 || gate >= int(gate_maps_[size_t(layer)].size())) return nullptr;
  return gate_maps_[size_t(layer)][size_t(gate)];
}

Histogram* InspectorView::gateHistogram(int layer, int gate) const {
  if (layer < 0 || layer >= int(gate_hists_.size())) return nullptr;
  if (gate < 0 || gate >= int(gate_hists_[size_t(layer)].size())) return nullptr;
  return gate_hists_[size_t(layer)][size_t(gate)];
}

void InspectorView::showError(const QString& message) {
  error_text_ = message;
  error_label_->setText(message);
  error_label_->setVisible(!message.isEmpty());
}

void InspectorView::clearViews() {
  summary_ = checkpoint::Summary{};
  model_.reset();
  run_ = GateRun{};
  ++model_id_;
  pending_ = false;
  debounce_.stop();
  while (form_->rowCount() > 0) form_->removeRow(0);
  tree_->clear();
  tree_label_->setText("Tensors");
  path_label_->clear();
  decay_message_->setText("Open a checkpoint to see its decays.");
  decay_stack_->setCurrentIndex(1);
  run_message_->setText(
      "Open a checkpoint (buttons above, or drop a file or folder on this window).\n"
      "The bundled tiny models can be run on your own text here.");
  run_stack_->setCurrentIndex(1);
  gates_message_->setText("Open a checkpoint to see its gate statistics.");
  gate_table_->setRowCount(0);
  buildGatePanels();
  att_layer_->clear();
  att_head_->clear();
  attention_map_->clearMatrix("attention");
  replaced_->clear();
  run_status_->clear();
}

bool InspectorView::open(const QString& path, QString* error) {
  checkpoint::Summary s;
  std::shared_ptr<const tiny::TinyModel> model;
  QString model_error;
  try {
    const auto ck = checkpoint::Checkpoint::open(path.toStdString());
    s = ck.summary();
    if (s.architecture.rfind("linscope-", 0) == 0) {
      try {
        model = std::make_shared<const tiny::TinyModel>(tiny::TinyModel::load(ck.directory()));
      } catch (const std::exception& e) {
        model_error = QString::fromStdString(e.what());
      }
    }
  } catch (const std::exception& e) {
    const QString name = QFileInfo(path).fileName();
    QString msg = QString::fromStdString(e.what());
    // The core's message names the file; make sure the short name is there too.
    if (!msg.contains(name)) msg = name + ": " + msg;
    clearViews();
    path_label_->setText(path);
    showError(QString("Could not open %1\n%2").arg(path, msg));
    if (error) *error = msg;
    return false;
  }
  clearViews();
  showError(QString());
  summary_ = std::move(s);
  path_ = path;
  path_label_->setText(path);
  path_label_->setToolTip(path);
  model_ = std::move(model);
  showSummary();
  fillTensorTree(tree_, summary_.tensors);
  tree_label_->setText(QString("Tensors (%1)").arg(summary_.tensors.size()));
  showDecays();
  showGateStats();
  const QString arch = QString::fromStdString(summary_.architecture);
  if (model_) {
    run_stack_->setCurrentIndex(0);
    buildGatePanels();
    tabs_->setCurrentIndex(run_tab_);
    if (!text_->toPlainText().isEmpty()) requestRun();
  } else {
    run_message_->setText(
        !model_error.isEmpty()
            ? "This linscope model cannot be run:\n" + model_error
            : QString("Running %1 checkpoints is not supported: linscope runs only its own tiny "
                      "models (linscope-lion, linscope-gateloop, linscope-deltanet).\n"
                      "Their static decays and gate statistics are in the other tabs.")
                  .arg(arch));
    tabs_->setCurrentIndex(!summary_.decays.empty()  ? decays_tab_
                           : !summary_.gates.empty() ? gates_tab_
                                                     : run_tab_);
  }
  if (error) error->clear();
  emit opened(path);
  return true;
}

bool InspectorView::openDefault(QString* error) {
  try {
    const std::string dir = tiny::find_assets_dir();
    const auto models = tiny::bundled_models(dir);
    if (models.empty()) throw std::runtime_error("no bundled models under " + dir);
    // LION-S bidirectional first when bundled: the family the explorer opens on too.
    const auto it = std::find(models.begin(), models.end(), "lion_s_bidirectional");
    const std::string first = it != models.end() ? *it : models.front();
    if (!open(QString::fromStdString(dir + "/" + first), error)) return false;
    bundled_->setCurrentIndex(std::max(0, bundled_->findText(QString::fromStdString(first))));
    setText(kDefaultText);
    return true;
  } catch (const std::exception& e) {
    showError(QString::fromStdString(e.what()));
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
}

void InspectorView::showSummary() {
  const auto& s = summary_;
  auto row = [this](const QString& k, const QString& v) {
    auto* l = new QLabel(v);
    l->setWordWrap(true);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form_->addRow("<b>" + k + "</b>", l);
  };
  QString arch = QString::fromStdString(s.architecture);
  if (!s.variant.empty()) arch += "  (" + QString::fromStdString(s.variant) + ")";
  row("Architecture", arch);
  row("Detected by", QString::fromStdString(s.detected_by));
  row("Decay", QString::fromStdString(s.decay_kind));
  if (!s.decay_rule.empty()) row("Rule", QString::fromStdString(s.decay_rule));
  auto dim = [](int64_t n) { return n > 0 ? QString::number(n) : QString("?"); };
  row("Layers / heads / hidden",
      QString("%1 / %2 / %3").arg(dim(s.layers), dim(s.heads), dim(s.hidden)));
  row("Parameters", QLocale().toString(qlonglong(s.parameters)));
  row("Size", QString("%1 in %2 file%3")
                  .arg(formatBytes(s.bytes))
                  .arg(s.shards.size())
                  .arg(s.shards.size() == 1 ? "" : "s"));
  if (model_) {
    const auto& c = model_->config();
    QString trained = QString::fromStdString(c.task);
    auto it = c.training.find("heldout_accuracy");
    if (it != c.training.end())
      trained += QString(", held-out accuracy %1").arg(num(it->second, 3));
    row("Task", trained);
    row("Vocabulary", QString("%1 characters").arg(c.vocab.size()));
  }
}

void InspectorView::showDecays() {
  const auto& d = summary_.decays;
  if (d.empty()) {
    decay_message_->setText(
        summary_.decay_kind == "data-dependent"
            ? "This model's decay depends on the token, so there is no static decay to show.\n" +
                  QString(model_ ? "See “Run on text” for its gates on your text."
                                 : "See “Gate statistics” for its gate projections.")
            : QString("No static decays in this checkpoint (decay: %1).")
                  .arg(QString::fromStdString(summary_.decay_kind)));
    decay_stack_->setCurrentIndex(1);
    return;
  }
  size_t heads = 0;
  for (const auto& l : d) heads = std::max(heads, l.lambda.size());
  const int rows = int(d.size()), cols = int(heads);
  std::vector<float> lam(size_t(rows * cols), NAN), mem(size_t(rows * cols), NAN);
  std::vector<double> all;
  for (int i = 0; i < rows; ++i)
    for (size_t h = 0; h < d[size_t(i)].lambda.size(); ++h) {
      const double l = d[size_t(i)].lambda[h];
      lam[size_t(i * cols) + h] = float(l);
      // λ = 1 has infinite memory; the colour map shows it at the top of the scale (1e12).
      const double m = d[size_t(i)].memory[h];
      mem[size_t(i * cols) + h] = float(std::isfinite(m) ? m : 1e12);
      all.push_back(l);
    }
  auto hover = [this](int i, int j) {
    const auto& layer = summary_.decays[size_t(i)];
    if (size_t(j) >= layer.lambda.size()) return QString("layer %1 has no head %2").arg(i).arg(j);
    const double l = layer.lambda[size_t(j)];
    QString t = QString("layer %1, head %2\nλ = %3\nmemory 1/(1−λ) = %4")
                    .arg(layer.layer)
                    .arg(j)
                    .arg(num(l, 6), memoryText(l));
    if (!layer.tensor.empty()) t += "\nfrom " + QString::fromStdString(layer.tensor);
    return t;
  };
  decay_map_->setTitle("λ per layer and head");
  decay_map_->setHoverText(hover);
  decay_map_->setMatrix(lam, rows, cols);
  memory_map_->setTitle("memory length 1/(1−λ), tokens");
  memory_map_->setHoverText(hover);
  memory_map_->setLogScale(true);
  memory_map_->setMatrix(mem, rows, cols);
  for (Heatmap* m : {decay_map_, memory_map_}) {
    setIndexTicks(m->xAxis, cols);
    setIndexTicks(m->yAxis, rows);
    m->replot();
  }
  decay_hist_->setTitle(QString("all %1 decays").arg(all.size()));
  decay_hist_->setValues(all, 24);
  decay_rule_->setText(QString("%1: %2. A contribution k tokens back is weighted λ^k; after "
                               "1/(1−λ) tokens it has fallen to about e^−1. Hover a cell for "
                               "its numbers.")
                           .arg(QString::fromStdString(summary_.decay_kind),
                                QString::fromStdString(summary_.decay_rule)));
  decay_stack_->setCurrentIndex(0);
}

void InspectorView::showGateStats() {
  const auto& g = summary_.gates;
  gate_table_->setRowCount(int(g.size()));
  for (int r = 0; r < int(g.size()); ++r) {
    const auto& s = g[size_t(r)];
    const QStringList cells = {QString::number(s.layer),
                               QString::fromStdString(s.tensor),
                               QString::fromStdString(s.role),
                               QString::number(s.count),
                               num(s.mean),
                               num(s.std),
                               num(s.min),
                               num(s.max)};
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      if (c != 1 && c != 2) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      gate_table_->setItem(r, c, item);
    }
  }
  gate_table_->resizeColumnsToContents();
  gate_table_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
  const QString arch = QString::fromStdString(summary_.architecture);
  if (g.empty())
    gates_message_->setText("No data-dependent gate projections in this checkpoint.");
  else if (model_)
    gates_message_->setText(
        "Statistics of the gate projections' weights (the gate is computed from each token). "
        "“Run on text” shows the gate values themselves.");
  else
    gates_message_->setText(
        QString("Statistics of the gate projections' weights: the gate is computed from each "
                "token. Running %1 checkpoints is not supported, so the gate values themselves "
                "cannot be shown.")
            .arg(arch));
}

void InspectorView::buildGatePanels() {
  while (QLayoutItem* item = gate_layout_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  gate_maps_.clear();
  gate_hists_.clear();
  gate_notes_.clear();
  if (!model_) return;
  const auto& c = model_->config();
  const QStringList keys = gateKeys(QString::fromStdString(c.model_type));
  for (int layer = 0; layer < int(c.n_layers); ++layer) {
    gate_maps_.emplace_back();
    gate_hists_.emplace_back();
    gate_notes_.emplace_back();
    for (int g = 0; g < keys.size(); ++g) {
      auto* box = new QWidget;
      auto* grid = new QGridLayout(box);
      grid->setContentsMargins(0, 4, 0, 4);
      auto* map = new Heatmap;
      map->setAxisLabels("token", "head");
      map->setMinimumSize(200, 200);  // its own hint is wider than a narrow pane allows
      map->setHoverText([this, layer, g](int i, int j) {
        if (size_t(layer) >= run_.layers.size() || size_t(g) >= run_.layers[size_t(layer)].size())
          return QString();
        const GateMatrix& m = run_.layers[size_t(layer)][size_t(g)];
        const double v = m.values[size_t(i * m.cols + j)];
        QString t = QString("layer %1, head %2, token %3 “%4”\n%5 = %6")
                        .arg(layer)
                        .arg(i)
                        .arg(j)
                        .arg(tokenAt(run_.tokens, j), m.value, num(v, 5));
        if (m.key == "lambda") t += "\nmemory 1/(1−λ) = " + memoryText(v);
        if (!m.note.isEmpty()) t += "\n(" + m.note + ")";
        return t;
      });
      auto* hist = new Histogram;
      hist->setMinimumWidth(170);
      auto* label = note(QString());
      grid->addWidget(map, 0, 0);
      grid->addWidget(hist, 0, 1);
      grid->addWidget(label, 1, 0, 1, 2);
      grid->setColumnStretch(0, 3);
      grid->setColumnStretch(1, 1);
      gate_layout_->addWidget(box);
      gate_maps_.back().push_back(map);
      gate_hists_.back().push_back(hist);
      gate_notes_.back().push_back(label);
    }
  }
  gate_layout_->addStretch(1);
}

void InspectorView::requestRun() {
  debounce_.stop();
  if (!model_) return;
  if (running_) {
    pending_ = true;  // launched when the current run finishes; its result is dropped
    run_status_->setText("computing…");
    return;
  }
  launchRun();
}

void InspectorView::launchRun() {
  pending_ = false;
  running_ = true;
  run_status_->setText("computing…");
  const auto model = model_;
  const QString text = text_->toPlainText();
  const quint64 id = model_id_;
  watcher_->setFuture(QtConcurrent::run([model, text, id] { return runGates(model, text, id); }));
}

void InspectorView::onRunFinished() {
  running_ = false;
  if (pending_) {  // newer text arrived meanwhile: newest wins
    launchRun();
    return;
  }
  GateRun r = watcher_->result();
  if (r.id != model_id_ || !model_) return;  // a run for a checkpoint no longer open
  run_ = std::move(r);
  showRun();
  emit gatesShown();
}

void InspectorView::showRun() {
  if (!run_.error.isEmpty()) {
    const bool empty = text_->toPlainText().isEmpty();
    run_status_->setText(empty ? "type some text" : "error: " + run_.error);
    replaced_->clear();
    for (auto& layer : gate_maps_)
      for (Heatmap* m : layer) m->clearMatrix(empty ? "no text" : "error");
    for (auto& layer : gate_hists_)
      for (Histogram* h : layer) h->clearValues("");
    attention_map_->clearMatrix(empty ? "no text" : "error");
    return;
  }
  replaced_->setText(run_.replaced.isEmpty() ? QString() : "replaced: " + run_.replaced);
  const int L = run_.tokens.size();
  run_status_->setText(
      QString("%1 tokens · %2 · %3 ms").arg(L).arg(run_.mixing).arg(num(run_.milliseconds, 3)));
  for (size_t layer = 0; layer < run_.layers.size() && layer < gate_maps_.size(); ++layer)
    for (size_t g = 0; g < run_.layers[layer].size() && g < gate_maps_[layer].size(); ++g) {
      const GateMatrix& m = run_.layers[layer][g];
      Heatmap* map = gate_maps_[layer][g];
      // The short name fits a narrow panel; the full description is the tooltip.
      map->setTitle(QString("layer %1 · %2").arg(layer).arg(m.title.section(" (", 0, 0)));
      map->setToolTip(m.title);
      map->setValueLabel(m.value);
      map->setMatrix(m.values, m.rows, m.cols);
      setTokenTicks(map->xAxis, run_.tokens, 9);
      setIndexTicks(map->yAxis, m.rows);
      map->replot();
      Histogram* h = gate_hists_[layer][g];
      h->setTitle(QString("layer %1: all %2").arg(layer).arg(m.value));
      h->setValueLabel(m.value);
      h->setValues(m.raw, 24);
      gate_notes_[layer][g]->setText(m.note);
      gate_notes_[layer][g]->setVisible(!m.note.isEmpty());
    }
  // Keep the selected layer and head when only the text changed.
  const int layer = std::max(0, att_layer_->currentIndex());
  const int head = std::max(0, att_head_->currentIndex());
  {
    const QSignalBlocker b1(att_layer_), b2(att_head_);
    if (att_layer_->count() != int(run_.attention.size())) {
      att_layer_->clear();
      for (size_t i = 0; i < run_.attention.size(); ++i) att_layer_->addItem(QString::number(i));
    }
    if (att_head_->count() != run_.heads) {
      att_head_->clear();
      for (int i = 0; i < run_.heads; ++i) att_head_->addItem(QString::number(i));
    }
    att_layer_->setCurrentIndex(std::min(layer, att_layer_->count() - 1));
    att_head_->setCurrentIndex(std::min(head, att_head_->count() - 1));
  }
  showAttention();
}

void InspectorView::selectAttention(int layer, int head) {
  const QSignalBlocker b(att_layer_);
  att_layer_->setCurrentIndex(layer);
  att_head_->setCurrentIndex(head);
  showAttention();
}

void InspectorView::showAttention() {
  const int layer = att_layer_->currentIndex(), head = att_head_->currentIndex();
  if (layer < 0 || head < 0 || size_t(layer) >= run_.attention.size()) return;
  const Tensor& a = run_.attention[size_t(layer)];
  if (a.rank() != 3 || head >= a.dim(0)) {
    attention_map_->clearMatrix("no attention matrix for this layer");
    return;
  }
  const int64_t L = a.dim(1);
  std::vector<float> m(a.values().begin() + head * L * L, a.values().begin() + (head + 1) * L * L);
  attention_map_->setTitle(QString("layer %1, head %2: attention A").arg(layer).arg(head));
  attention_map_->setHoverText([this, L, m](int i, int j) {
    return QString("query %1 “%2” ← key %3 “%4”\nA = %5")
        .arg(i)
        .arg(tokenAt(run_.tokens, i))
        .arg(j)
        .arg(tokenAt(run_.tokens, j))
        .arg(num(m[size_t(i * L + j)], 5));
  });
  // DeltaNet's A has signed entries: a diverging palette keeps zero neutral.
  attention_map_->setDiverging(*std::min_element(m.begin(), m.end()) < 0.f);
  attention_map_->setMatrix(m, int(L), int(L));
  setTokenTicks(attention_map_->xAxis, run_.tokens, 9);
  setTokenTicks(attention_map_->yAxis, run_.tokens, 13);
  attention_map_->replot();
}

void InspectorView::emitAttention() {
  const int L = attention_map_->rows();
  if (L == 0) return;
  QVector<double> m;
  m.reserve(L * L);
  for (float v : attention_map_->values()) m << v;
  QString t = text_->toPlainText().simplified();
  if (t.size() > 40) t = t.left(40) + "…";
  emit attentionForText(m, L,
                        QString("%1 · layer %2 · head %3 · “%4”")
                            .arg(QString::fromStdString(summary_.architecture))
                            .arg(att_layer_->currentIndex())
                            .arg(att_head_->currentIndex())
                            .arg(t));
}

void InspectorView::chooseFile() {
  const QString p = QFileDialog::getOpenFileName(
      this, "Open checkpoint", QString(),
      "Checkpoints (*.safetensors *.safetensors.index.json);;All files (*)");
  if (!p.isEmpty()) open(p);
}

void InspectorView::chooseDirectory() {
  const QString p = QFileDialog::getExistingDirectory(this, "Open checkpoint folder");
  if (!p.isEmpty()) open(p);
}

void InspectorView::dragEnterEvent(QDragEnterEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (!urls.isEmpty() && urls.front().isLocalFile()) event->acceptProposedAction();
}

void InspectorView::dropEvent(QDropEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.front().isLocalFile()) return;
  event->acceptProposedAction();
  open(urls.front().toLocalFile());
}

}  // namespace linscope::widgets
