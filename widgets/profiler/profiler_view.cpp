#include "widgets/profiler/profiler_view.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "core/base/error.h"
#include "core/profile/analysis.h"
#include "widgets/hud/imgui_hud.h"
#include "widgets/profiler/sweep_runner.h"

namespace linscope::widgets {
namespace {

struct ModelChoice {
  const char* label;
  ModelSpec spec;
};

std::vector<ModelChoice> model_choices() {
  auto la = [](Decay d) {
    ModelSpec m;
    m.decay = d;
    return m;
  };
  auto lion = [](Decay d) {
    ModelSpec m;
    m.family = Family::Lion;
    m.decay = d;
    m.direction = Direction::Bidirectional;
    m.normalize = true;
    return m;
  };
  auto fam = [](Family f) {
    ModelSpec m;
    m.family = f;
    if (f == Family::Lcsm) m.lcsm = lcsm_preset(LcsmPreset::Mamba);
    return m;
  };
  return {
      {"linear attention D (causal)", la(Decay::D)}, {"linear attention S (causal)", la(Decay::S)},
      {"LION-D (bidirectional)", lion(Decay::D)},    {"LION-S (bidirectional)", lion(Decay::S)},
      {"GateLoop", fam(Family::GateLoop)},           {"DeltaNet", fam(Family::DeltaNet)},
      {"LCSM (Mamba-like)", fam(Family::Lcsm)},      {"LightNet", fam(Family::LightNet)}};
}

std::vector<int64_t> parse_list(const QString& text, const char* what) {
  std::vector<int64_t> out;
  for (const QString& part : text.split(',', Qt::SkipEmptyParts)) {
    bool ok = false;
    const qlonglong v = part.trimmed().toLongLong(&ok);
    if (!ok || v < 1)
      throw Error(std::string(what) + ": '" + part.trimmed().toStdString() +
                  "' is not a positive integer");
    out.push_back(v);
  }
  if (out.empty()) throw Error(std::string(what) + ": the list is empty");
  return out;
}

QString series_name(const SweepRun& run, const profile::SweepResult& r, bool chunk_varies) {
  QString name = QString::fromStdString(describe(r.point.model) + " · " + to_string(r.point.form));
  if (r.point.form == Form::Chunkwise && chunk_varies) name += QString(" C=%1").arg(r.point.chunk);
  name += " · " + QString::fromStdString(r.point.backend);
  if (r.point.bf16) name += " bf16";
  if (!run.label.isEmpty() && run.label != "this session") name += " [" + run.label + "]";
  return name;
}

const QColor kPalette[] = {QColor(31, 119, 180),  QColor(255, 127, 14),  QColor(44, 160, 44),
                           QColor(214, 39, 40),   QColor(148, 103, 189), QColor(140, 86, 75),
                           QColor(227, 119, 194), QColor(127, 127, 127), QColor(188, 189, 34),
                           QColor(23, 190, 207)};

void style_axes(QCustomPlot* p, const QString& x, const QString& y, bool log_x, bool log_y) {
  p->xAxis->setLabel(x);
  p->yAxis->setLabel(y);
  auto set_scale = [](QCPAxis* a, bool log) {
    a->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (log)
      a->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    else
      a->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  };
  set_scale(p->xAxis, log_x);
  set_scale(p->yAxis, log_y);
  p->legend->setVisible(true);
  p->legend->setFont(QFont(p->font().family(), 8));
  p->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
}

}  // namespace

ProfilerView::ProfilerView(QWidget* parent) : QWidget(parent), runner_(new SweepRunner(this)) {
  runs_.push_back({"this session", {}});
  auto* split = new QSplitter(this);
  auto* scroll = new QScrollArea;
  scroll->setWidget(buildControls());
  scroll->setWidgetResizable(true);
  scroll->setMinimumWidth(300);
  split->addWidget(scroll);

  tabs_ = new QTabWidget;
  time_plot_ = new QCustomPlot;
  throughput_plot_ = new QCustomPlot;
  roofline_plot_ = new QCustomPlot;
  chunk_plot_ = new QCustomPlot;
  table_ = new QTableWidget;
  tabs_->addTab(time_plot_, "Time vs L");
  tabs_->addTab(throughput_plot_, "Tokens/s");
  tabs_->addTab(roofline_plot_, "Roofline");
  tabs_->addTab(chunk_plot_, "Chunk size");
  tabs_->addTab(table_, "Table");
  split->addWidget(tabs_);
  split->setStretchFactor(1, 1);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(split);

  // The HUD floats over the time plot; F2 shows or hides it.
  hud_ = new ImGuiHud(time_plot_);
  hud_->setGeometry(0, 0, 360, 260);
  hud_->hide();
  auto* toggle = new QShortcut(QKeySequence(Qt::Key_F2), this);
  toggle->setContext(Qt::WidgetWithChildrenShortcut);
  connect(toggle, &QShortcut::activated, this, [this] {
    hud_->setVisible(!hud_->isVisible());
    if (hud_->isVisible()) {
      hud_->raise();
      updateHud();
    }
  });
  connect(hud_, &ImGuiHud::cancelSweepRequested, this, &ProfilerView::cancelSweep);
  connect(hud_, &ImGuiHud::logScaleToggled, this, [this](bool on) {
    log_axes_ = on;
    redraw();
  });
  connect(hud_, &ImGuiHud::rooflineToggled, this, [this](bool on) {
    show_roofline_ = on;
    redraw();
  });

  connect(runner_, &SweepRunner::pointDone, this, &ProfilerView::onPoint);
  connect(runner_, &SweepRunner::finished, this, &ProfilerView::onFinished);
  connect(runner_, &SweepRunner::ceilingsMeasured, this,
          [this](const QString& backend, const QString& device, double gbs, double gflops,
                 const QString& how) {
            ceilings_[backend] = {device, gbs, gflops, how};
            QStringList lines;
            for (auto it = ceilings_.begin(); it != ceilings_.end(); ++it)
              lines << QString("%1: %2 GB/s, %3 GFLOP/s (%4)")
                           .arg(it.value().device)
                           .arg(it.value().gbytes_per_s, 0, 'f', 1)
                           .arg(it.value().gflops_per_s, 0, 'f', 1)
                           .arg(it.value().how);
            ceiling_label_->setText("Measured ceilings:\n" + lines.join("\n"));
            redraw();
          });
  redraw();
}

QWidget* ProfilerView::buildControls() {
  auto* w = new QWidget;
  auto* v = new QVBoxLayout(w);

  auto* mbox = new QGroupBox("Models");
  auto* ml = new QVBoxLayout(mbox);
  models_ = new QListWidget;
  for (const auto& c : model_choices()) {
    auto* item = new QListWidgetItem(c.label, models_);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(QString(c.label).startsWith("linear attention D") ? Qt::Checked
                                                                          : Qt::Unchecked);
  }
  models_->setToolTip("Models to time; each runs every form ticked below that it has.");
  models_->setMaximumHeight(170);
  ml->addWidget(models_);
  v->addWidget(mbox);

  auto* fbox = new QGroupBox("Forms and backends");
  auto* fl = new QFormLayout(fbox);
  form_recurrent_ = new QCheckBox("recurrent  O(L)");
  form_parallel_ = new QCheckBox("parallel  O(L²)");
  form_chunkwise_ = new QCheckBox("chunkwise  O(L·C)");
  form_scan_ = new QCheckBox("scan (GateLoop)");
  for (auto* c : {form_recurrent_, form_parallel_, form_chunkwise_}) c->setChecked(true);
  form_recurrent_->setToolTip("S_t = λ_t S_{t-1} + k_t v_t^T, one token at a time");
  form_parallel_->setToolTip("Y = (QK^T ⊙ M) V: the attention matrix, quadratic in L");
  form_chunkwise_->setToolTip("Attention inside chunks of C tokens, a carried state between them");
  form_scan_->setToolTip("Associative scan over (a_t, k_t v_t^T) pairs");
  auto* forms = new QVBoxLayout;
  for (auto* c : {form_recurrent_, form_parallel_, form_chunkwise_, form_scan_})
    forms->addWidget(c);
  fl->addRow("Forms", forms);
  backend_cpu_ = new QCheckBox("CPU");
  backend_cpu_->setChecked(true);
  backend_gpu_ = new QCheckBox("GPU (CUDA)");
  auto gpu = select_backend("auto");
  const bool has_gpu = gpu.backend->name() != "cpu";
  device_ = std::move(gpu.backend);
  backend_gpu_->setEnabled(has_gpu);
  backend_gpu_->setToolTip(
      has_gpu ? QString::fromStdString(device_->device())
              : QString::fromStdString(gpu.note.empty() ? "no GPU present" : gpu.note));
  auto* backs = new QHBoxLayout;
  backs->addWidget(backend_cpu_);
  backs->addWidget(backend_gpu_);
  fl->addRow("Backends", backs);
  dtype_ = new QComboBox;
  dtype_->addItems({"fp32", "bf16 inputs, fp32 accumulate"});
  dtype_->setToolTip(
      "bf16 rounds q, k, v to bfloat16 (tensor cores on the GPU); the CPU rounds "
      "the same way and computes in fp32");
  fl->addRow("Dtype", dtype_);
  v->addWidget(fbox);

  auto* sbox = new QGroupBox("Sweep");
  auto* sl = new QFormLayout(sbox);
  lengths_ = new QLineEdit("256,512,1024,2048,4096");
  lengths_->setToolTip("Sequence lengths L, comma-separated");
  dims_ = new QLineEdit("64");
  dims_->setToolTip("Head dimensions d (d_k = d_v = d)");
  chunks_ = new QLineEdit("32,64");
  chunks_->setToolTip("Chunk sizes C tried by the chunkwise form");
  batch_heads_ = new QLineEdit("4");
  batch_heads_->setToolTip("Independent heads B·H computed together");
  repetitions_ = new QSpinBox;
  repetitions_->setRange(1, 100);
  repetitions_->setValue(5);
  repetitions_->setToolTip(
      "Timed repetitions per point (after one warm-up); the median is plotted");
  sl->addRow("L", lengths_);
  sl->addRow("d", dims_);
  sl->addRow("chunk C", chunks_);
  sl->addRow("B·H", batch_heads_);
  sl->addRow("repetitions", repetitions_);
  v->addWidget(sbox);

  run_ = new QPushButton("Run sweep");
  cancel_ = new QPushButton("Cancel");
  cancel_->setEnabled(false);
  auto* rl = new QHBoxLayout;
  rl->addWidget(run_);
  rl->addWidget(cancel_);
  v->addLayout(rl);
  progress_ = new QProgressBar;
  progress_->setRange(0, 1);
  progress_->setValue(0);
  v->addWidget(progress_);
  connect(run_, &QPushButton::clicked, this, &ProfilerView::startSweep);
  connect(cancel_, &QPushButton::clicked, this, &ProfilerView::cancelSweep);

  auto* save = new QPushButton("Save run…");
  auto* load = new QPushButton("Overlay saved run…");
  auto* csv = new QPushButton("Export CSV…");
  auto* clear = new QPushButton("Clear overlays");
  save->setToolTip("Save this session's sweep as JSON (linscope-cli bench --json writes the same)");
  load->setToolTip("Load one or more saved sweeps and draw them dashed beside this one");
  connect(save, &QPushButton::clicked, this, [this] {
    const QString p =
        QFileDialog::getSaveFileName(this, "Save sweep", "sweep.json", "JSON (*.json)");
    QString err;
    if (!p.isEmpty() && !saveJson(p, &err)) emit statusMessage(err);
  });
  connect(load, &QPushButton::clicked, this, [this] {
    for (const QString& p :
         QFileDialog::getOpenFileNames(this, "Overlay sweeps", {}, "JSON (*.json)")) {
      QString err;
      if (!loadJson(p, &err)) emit statusMessage(err);
    }
  });
  connect(csv, &QPushButton::clicked, this, [this] {
    const QString p = QFileDialog::getSaveFileName(this, "Export CSV", "sweep.csv", "CSV (*.csv)");
    QString err;
    if (!p.isEmpty() && !exportCsv(p, &err)) emit statusMessage(err);
  });
  connect(clear, &QPushButton::clicked, this, &ProfilerView::clearOverlays);
  auto* io = new QGridLayout;
  io->addWidget(save, 0, 0);
  io->addWidget(load, 0, 1);
  io->addWidget(csv, 1, 0);
  io->addWidget(clear, 1, 1);
  v->addLayout(io);

  summary_ = new QLabel("No sweep yet.");
  summary_->setWordWrap(true);
  ceiling_label_ = new QLabel("Measured ceilings appear when a sweep starts.");
  ceiling_label_->setWordWrap(true);
  auto* hint = new QLabel("F2: heads-up display over the plots");
  hint->setStyleSheet("color: gray");
  v->addWidget(summary_);
  v->addWidget(ceiling_label_);
  v->addWidget(hint);
  v->addStretch(1);
  return w;
}

profile::SweepConfig ProfilerView::config() const {
  profile::SweepConfig c;
  c.models.clear();
  const auto choices = model_choices();
  for (int i = 0; i < models_->count(); ++i)
    if (models_->item(i)->checkState() == Qt::Checked) c.models.push_back(choices[size_t(i)].spec);
  if (c.models.empty()) throw Error("choose at least one model");
  if (form_recurrent_->isChecked()) c.forms.push_back(Form::Recurrent);
  if (form_parallel_->isChecked()) c.forms.push_back(Form::Parallel);
  if (form_chunkwise_->isChecked()) c.forms.push_back(Form::Chunkwise);
  if (form_scan_->isChecked()) c.forms.push_back(Form::Scan);
  if (c.forms.empty()) throw Error("choose at least one form");
  c.backends.clear();
  if (backend_cpu_->isChecked()) c.backends.push_back("cpu");
  if (backend_gpu_->isChecked() && backend_gpu_->isEnabled()) c.backends.push_back("cuda");
  if (c.backends.empty()) throw Error("choose at least one backend");
  c.lengths = parse_list(lengths_->text(), "L");
  c.dims = parse_list(dims_->text(), "d");
  c.chunks = parse_list(chunks_->text(), "chunk C");
  c.batch_heads = parse_list(batch_heads_->text(), "B·H");
  c.repetitions = repetitions_->value();
  c.bf16 = dtype_->currentIndex() == 1;
  return c;
}

void ProfilerView::setLengths(const QString& csv) {
  lengths_->setText(csv);
}
void ProfilerView::setRepetitions(int n) {
  repetitions_->setValue(n);
}
void ProfilerView::selectOnly(const QString& label) {
  for (int i = 0; i < models_->count(); ++i)
    models_->item(i)->setCheckState(models_->item(i)->text() == label ? Qt::Checked
                                                                      : Qt::Unchecked);
}

bool ProfilerView::running() const {
  return runner_->running();
}

void ProfilerView::startSweep() {
  profile::SweepConfig c;
  try {
    c = config();
  } catch (const Error& e) {
    summary_->setText(QString("Cannot start: %1").arg(e.what()));
    emit statusMessage(summary_->text());
    return;
  }
  const size_t total = profile::expand(c).size();
  if (total == 0) {
    summary_->setText("Cannot start: none of the chosen models has the chosen forms.");
    return;
  }
  runs_[0].results.clear();
  if (!runner_->start(c)) return;
  progress_->setRange(0, int(total));
  progress_->setValue(0);
  run_->setEnabled(false);
  cancel_->setEnabled(true);
  summary_->setText(QString("Running %1 points…").arg(total));
  redraw();
}

void ProfilerView::cancelSweep() {
  runner_->cancel();
  cancel_->setEnabled(false);
  summary_->setText("Cancelling after the current repetition…");
}

void ProfilerView::onPoint(const profile::SweepResult& r, int done, int total) {
  runs_[0].results.push_back(r);
  progress_->setRange(0, total);
  progress_->setValue(done);
  if (!r.error.empty()) emit statusMessage(QString::fromStdString(r.error));
  redraw();
}

void ProfilerView::onFinished(bool cancelled) {
  run_->setEnabled(true);
  cancel_->setEnabled(false);
  redraw();
  emit sweepFinished(cancelled);
}

bool ProfilerView::saveJson(const QString& path, QString* error) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
    if (error) *error = QString("cannot write %1: %2").arg(path, f.errorString());
    return false;
  }
  f.write(QByteArray::fromStdString(profile::to_json(runs_[0].results).dump(1)));
  return true;
}

bool ProfilerView::loadJson(const QString& path, QString* error) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    if (error) *error = QString("cannot read %1: %2").arg(path, f.errorString());
    return false;
  }
  try {
    const auto j = nlohmann::json::parse(f.readAll().toStdString());
    runs_.push_back({QFileInfo(path).fileName(), profile::from_json(j)});
  } catch (const std::exception& e) {
    if (error) *error = QString("%1: %2").arg(path, e.what());
    return false;
  }
  redraw();
  return true;
}

bool ProfilerView::exportCsv(const QString& path, QString* error) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
    if (error) *error = QString("cannot write %1: %2").arg(path, f.errorString());
    return false;
  }
  f.write(QByteArray::fromStdString(profile::to_csv(runs_[0].results)));
  return true;
}

void ProfilerView::clearOverlays() {
  runs_.resize(1);
  redraw();
}

void ProfilerView::redraw() {
  for (auto* p : {time_plot_, throughput_plot_, roofline_plot_, chunk_plot_}) {
    p->clearGraphs();
    p->clearItems();
  }
  style_axes(time_plot_, "sequence length L", "median time (ms)", log_axes_, log_axes_);
  style_axes(throughput_plot_, "sequence length L", "tokens / s", log_axes_, log_axes_);
  style_axes(roofline_plot_, "arithmetic intensity (FLOP / byte, algorithm's count)",
             "achieved GFLOP/s", true, true);
  style_axes(chunk_plot_, "chunk size C", "median time (ms) at the largest L", true, log_axes_);

  int color = 0;
  for (size_t run = 0; run < runs_.size(); ++run) {
    const SweepRun& sr = runs_[run];
    std::set<int64_t> chunk_values;
    for (const auto& r : sr.results)
      if (r.point.form == Form::Chunkwise) chunk_values.insert(r.point.chunk);
    const bool chunk_varies = chunk_values.size() > 1;
    std::map<QString, std::vector<const profile::SweepResult*>> series;
    std::vector<QString> order;
    for (const auto& r : sr.results) {
      if (!r.error.empty() || r.median_ms <= 0) continue;
      const QString name = series_name(sr, r, chunk_varies) +
                           (r.point.shape.Dk != 64 || r.point.shape.H != 4
                                ? QString(" d=%1 BH=%2").arg(r.point.shape.Dk).arg(r.point.shape.H)
                                : QString());
      if (!series.count(name)) order.push_back(name);
      series[name].push_back(&r);
    }
    for (const QString& name : order) {
      QPen pen(kPalette[color++ % 10], 2, run == 0 ? Qt::SolidLine : Qt::DashLine);
      QVector<double> L, ms, tps, ai, gf;
      for (const auto* r : series[name]) {
        L << double(r->point.shape.L);
        ms << r->median_ms;
        tps << r->tokens_per_s();
        ai << r->flops / std::max(r->bytes, 1.0);
        gf << r->gflops_per_s();
      }
      auto add = [&](QCustomPlot* p, const QVector<double>& x, const QVector<double>& y,
                     bool line) {
        QCPGraph* g = p->addGraph();
        g->setName(name);
        g->setPen(pen);
        g->setLineStyle(line ? QCPGraph::lsLine : QCPGraph::lsNone);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
        g->setData(x, y);
      };
      add(time_plot_, L, ms, true);
      add(throughput_plot_, L, tps, true);
      add(roofline_plot_, ai, gf, false);
    }
    // Chunk-size sweep: chunkwise time at the largest L against C, per model and backend.
    int64_t maxL = 0;
    for (const auto& r : sr.results)
      if (r.error.empty() && r.point.form == Form::Chunkwise)
        maxL = std::max(maxL, r.point.shape.L);
    std::map<QString, QVector<QPair<double, double>>> by_model;
    for (const auto& r : sr.results)
      if (r.error.empty() && r.point.form == Form::Chunkwise && r.point.shape.L == maxL)
        by_model[series_name(sr, r, false)].push_back({double(r.point.chunk), r.median_ms});
    for (auto it = by_model.begin(); it != by_model.end(); ++it) {
      std::sort(it->second.begin(), it->second.end());
      QVector<double> x, y;
      for (const auto& [c, t] : it->second) x << c, y << t;
      QCPGraph* g = chunk_plot_->addGraph();
      g->setName(it->first + QString(" (L=%1)").arg(maxL));
      g->setPen(QPen(kPalette[color++ % 10], 2, run == 0 ? Qt::SolidLine : Qt::DashLine));
      g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, 7));
      g->setData(x, y);
    }
  }

  // Roofline ceilings: min(peak FLOP/s, bandwidth x intensity), per measured backend.
  if (show_roofline_) {
    for (auto it = ceilings_.begin(); it != ceilings_.end(); ++it) {
      const DeviceCeiling& c = it.value();
      if (c.gbytes_per_s <= 0 || c.gflops_per_s <= 0) continue;
      QVector<double> x, y;
      for (double ai = 1e-2; ai <= 1e4; ai *= 1.25) {
        x << ai;
        y << std::min(c.gflops_per_s, c.gbytes_per_s * ai);
      }
      QCPGraph* g = roofline_plot_->addGraph();
      g->setName(QString("ceiling: %1").arg(c.device));
      g->setPen(QPen(Qt::black, 1.5, Qt::DotLine));
      g->setData(x, y);
    }
  }

  // The crossover where chunkwise overtakes the recurrence, marked on the time plot.
  const auto& mine = runs_[0].results;
  const auto x = profile::crossover_length(mine, Form::Chunkwise, Form::Recurrent);
  const auto best = profile::best_chunk(mine);
  QStringList summary;
  if (!mine.empty()) summary << QString("%1 points measured.").arg(mine.size());
  if (x) {
    auto* line = new QCPItemStraightLine(time_plot_);
    line->point1->setCoords(*x, 1);
    line->point2->setCoords(*x, 2);
    line->setPen(QPen(QColor(200, 0, 0), 1.5, Qt::DashLine));
    auto* label = new QCPItemText(time_plot_);
    label->position->setType(QCPItemPosition::ptAxisRectRatio);
    label->position->setCoords(0.98, 0.95);
    label->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    label->setText(QString("chunkwise overtakes recurrent at L ≈ %1").arg(*x, 0, 'f', 0));
    label->setColor(QColor(200, 0, 0));
    summary << label->text() + ".";
  }
  if (best) summary << QString("Best chunk size at the largest L: C = %1.").arg(*best);
  if (!summary.isEmpty() && !running()) summary_->setText(summary.join("\n"));

  for (auto* p : {time_plot_, throughput_plot_, roofline_plot_, chunk_plot_}) {
    p->rescaleAxes();
    p->replot();
  }
  redrawTable();
  updateHud();
}

void ProfilerView::redrawTable() {
  const QStringList headers{"run",    "model",    "form",    "backend", "dtype",     "L",
                            "d",      "B·H",      "C",       "reps",    "median ms", "min ms",
                            "max ms", "tokens/s", "GFLOP/s", "GB/s",    "note"};
  table_->setColumnCount(headers.size());
  table_->setHorizontalHeaderLabels(headers);
  int rows = 0;
  for (const auto& run : runs_) rows += int(run.results.size());
  table_->setRowCount(rows);
  int row = 0;
  for (const auto& run : runs_)
    for (const auto& r : run.results) {
      const QStringList cells{
          run.label,
          QString::fromStdString(describe(r.point.model)),
          QString::fromStdString(to_string(r.point.form)),
          QString::fromStdString(r.point.backend),
          r.point.bf16 ? "bf16" : "fp32",
          QString::number(r.point.shape.L),
          QString::number(r.point.shape.Dk),
          QString::number(r.point.shape.B * r.point.shape.H),
          r.point.form == Form::Chunkwise ? QString::number(r.point.chunk) : "–",
          QString::number(r.times_ms.size()),
          QString::number(r.median_ms, 'f', 3),
          QString::number(r.min_ms, 'f', 3),
          QString::number(r.max_ms, 'f', 3),
          QString::number(r.tokens_per_s(), 'g', 4),
          QString::number(r.gflops_per_s(), 'f', 2),
          QString::number(r.gbytes_per_s(), 'f', 2),
          QString::fromStdString(r.error.empty() ? r.note : "failed: " + r.error)};
      for (int c = 0; c < cells.size(); ++c)
        table_->setItem(row, c, new QTableWidgetItem(cells[c]));
      ++row;
    }
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
}

void ProfilerView::updateHud() {
  if (!hud_ || !hud_->isVisible()) return;
  HudStats s;
  s.device = QString::fromStdString(device_->device());
  double used = 0, total = 0;
  if (device_->memory_info(&used, &total)) {
    s.memory_used_gib = used;
    s.memory_total_gib = total;
  }
  const auto& rs = runs_[0].results;
  for (size_t i = rs.size() > 6 ? rs.size() - 6 : 0; i < rs.size(); ++i)
    s.timings_ms.push_back({QString::fromStdString(to_string(rs[i].point.form)) +
                                QString(" L=%1").arg(rs[i].point.shape.L),
                            rs[i].median_ms});
  s.sweep_running = running();
  s.sweep_done = progress_->value();
  s.sweep_total = progress_->maximum();
  hud_->setStats(s);
}

}  // namespace linscope::widgets
