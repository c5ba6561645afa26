#include "widgets/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QScrollArea>
#include <QSettings>
#include <QStatusBar>
#include <QSvgGenerator>
#include <QTabWidget>
#include <QTimer>

#include "widgets/attention_view.h"
#include "widgets/forms_view.h"
#include "widgets/inspector/inspector_view.h"
#include "widgets/md/md_view.h"
#include "widgets/model_panel.h"
#include "widgets/profiler/profiler_view.h"
#include "widgets/recurrence_view.h"

namespace linscope::widgets {

MainWindow::MainWindow(bool persist, QWidget* parent) : QMainWindow(parent), persist_(persist) {
  setWindowTitle("linscope — linear attention explorer");
  controller_ = new ComputeController(this);
  panel_ = new ModelPanel;
  auto* scroll = new QScrollArea;
  scroll->setWidget(panel_);
  scroll->setWidgetResizable(true);
  auto* dock = new QDockWidget("Model", this);
  dock->setObjectName("model_dock");
  dock->setWidget(scroll);
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
  addDockWidget(Qt::LeftDockWidgetArea, dock);

  tabs_ = new QTabWidget;
  attention_ = new AttentionView;
  recurrence_ = new RecurrenceView;
  forms_ = new FormsView(controller_, [this] { return panel_->request(); });
  tabs_->addTab(attention_, "Implicit attention");
  tabs_->addTab(recurrence_, "Recurrence");
  tabs_->addTab(forms_, "Forms compared");
  tabs_->setTabToolTip(0, "A such that Y = A V, the mask M, causal vs bidirectional");
  tabs_->setTabToolTip(1, "The state recurrence S_t step by step next to row t of A");
  tabs_->setTabToolTip(2,
                       "Every form on the same inputs: outputs, errors, timings, a sweep over L");
  md_ = new MdView;
  tabs_->addTab(md_, "Multi-dimensional (LightNet)");
  tabs_->setTabToolTip(3, "LightNet's one additive scan over a 2-D grid vs multiplicative scans");
  connect(md_, &MdView::statusMessage, this,
          [this](const QString& t) { statusBar()->showMessage(t, 5000); });
  // The checkpoint inspector opens on a bundled tiny trained model (the app's embedded default)
  // and sends a trained model's attention for typed text to the attention view.
  inspector_ = new InspectorView;
  tabs_->addTab(inspector_, "Checkpoint inspector");
  tabs_->setTabToolTip(tabs_->count() - 1,
                       "A trained checkpoint's tensors, decays per layer and head, gates on text");
  connect(inspector_, &InspectorView::attentionForText, this,
          [this](QVector<double> m, int L, QString title) {
            attention_->showCheckpointAttention(m, L, title);
            tabs_->setCurrentWidget(attention_);
          });
  connect(inspector_, &InspectorView::opened, this, [this](const QString& path) {
    statusBar()->showMessage("Opened checkpoint " + path, 5000);
  });
  // The profiler's HUD is a QOpenGLWidget, which crashes the offscreen platform once the
  // window is shown (rhiFlush): leave the tab out where there is no OpenGL surface.
  const QString platform = QGuiApplication::platformName();
  if (platform != "offscreen" && platform != "minimal") {
    profiler_ = new ProfilerView;
    tabs_->addTab(profiler_, "Profiler");
    tabs_->setTabToolTip(tabs_->count() - 1, "Kernel timings over L, d, chunk size and backends");
    connect(profiler_, &ProfilerView::statusMessage, this,
            [this](const QString& t) { statusBar()->showMessage(t, 5000); });
  }
  // Names for files (exports, screenshots): <name>.png.
  attention_->setObjectName("attention");
  recurrence_->setObjectName("recurrence");
  forms_->setObjectName("forms");
  md_->setObjectName("multidimensional");
  inspector_->setObjectName("inspector");
  if (profiler_) profiler_->setObjectName("profiler");
  setCentralWidget(tabs_);
  connect(tabs_, &QTabWidget::currentChanged, this, [this](int i) { pushTo(tabs_->widget(i)); });

  backend_label_ = new QLabel;
  device_label_ = new QLabel;
  time_label_ = new QLabel("no result yet");
  for (QLabel* l : {backend_label_, device_label_, time_label_}) statusBar()->addPermanentWidget(l);

  debounce_ = new QTimer(this);
  debounce_->setSingleShot(true);
  debounce_->setInterval(150);  // coalesce a spin box being scrolled into one request
  connect(debounce_, &QTimer::timeout, this, &MainWindow::recompute);
  connect(panel_, &ModelPanel::changed, debounce_, qOverload<>(&QTimer::start));
  connect(panel_, &ModelPanel::headChanged, this, [this](int) {
    if (!latest_) return;
    stale_ = {attention_, recurrence_, forms_};  // each redraws for the new head when shown
    pushTo(tabs_->currentWidget());
  });
  connect(attention_, &AttentionView::rowScalingToggled, panel_->normalizeBox(),
          &QCheckBox::setChecked);
  connect(controller_, &ComputeController::computed, this, &MainWindow::onComputed);
  // The attention matrix arrives ahead of the rest: on screen at once when its view is shown.
  connect(controller_, &ComputeController::preview, this,
          [this](std::shared_ptr<const Computed> p) {
            if (tabs_->currentWidget() != attention_) return;
            attention_->setComputed(p, panel_->shownHead());
            time_label_->setText(
                QString("attention in %1 ms, computing the rest…").arg(p->total_ms, 0, 'f', 1));
            emit resultShown(p->generation);
          });
  connect(controller_, &ComputeController::failed, this,
          [this](quint64, const QString& m) { onFailed(m); });
  connect(controller_, &ComputeController::started, this,
          [this] { time_label_->setText("computing…"); });
  buildMenus();
  resize(1600, 1000);
  if (persist_) {
    QSettings s;
    panel_->load(s);
    restoreGeometry(s.value("window/geometry").toByteArray());
    restoreState(s.value("window/state").toByteArray());
    tabs_->setCurrentIndex(s.value("window/tab", 0).toInt());
  }
  recompute();
  inspector_->openDefault();  // its error, if any, is shown in the inspector itself
}

MainWindow::~MainWindow() = default;

bool MainWindow::openCheckpoint(const QString& path, QString* error) {
  tabs_->setCurrentWidget(inspector_);
  return inspector_->open(path, error);
}

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu("&File");
  auto* open_ckpt = file->addAction("&Open checkpoint…");
  open_ckpt->setShortcut(QKeySequence::Open);
  connect(open_ckpt, &QAction::triggered, this, [this] {
    const QString p = QFileDialog::getOpenFileName(
        this, "Open checkpoint", QString(),
        "Checkpoints (*.safetensors *.safetensors.index.json);;All files (*)");
    if (!p.isEmpty()) openCheckpoint(p);
  });
  auto* export_image = file->addAction("Export view as &image (PNG/SVG)…");
  export_image->setShortcut(QKeySequence::Save);
  connect(export_image, &QAction::triggered, this, [this] {
    const QString path =
        QFileDialog::getSaveFileName(this, "Export view", viewKey(tabs_->currentIndex()) + ".png",
                                     "PNG image (*.png);;SVG image (*.svg)");
    QString error;
    if (!path.isEmpty() && !exportImage(path, &error)) QMessageBox::warning(this, "Export", error);
  });
  auto* export_csv = file->addAction("Export view &data (CSV)…");
  export_csv->setShortcut(QKeySequence("Ctrl+Shift+S"));
  connect(export_csv, &QAction::triggered, this, [this] {
    const QString path = QFileDialog::getSaveFileName(
        this, "Export data", viewKey(tabs_->currentIndex()) + ".csv", "CSV (*.csv)");
    QString error;
    if (!path.isEmpty() && !exportCsv(path, &error)) QMessageBox::warning(this, "Export", error);
  });
  file->addSeparator();
  auto* quit = file->addAction("&Quit");
  quit->setShortcut(QKeySequence::Quit);
  connect(quit, &QAction::triggered, this, &QWidget::close);

  auto* view = menuBar()->addMenu("&View");
  auto* again = view->addAction("&Recompute");
  again->setShortcut(QKeySequence::Refresh);
  connect(again, &QAction::triggered, this, &MainWindow::recompute);
  for (int i = 0; i < tabs_->count(); ++i) {
    auto* a = view->addAction(tabs_->tabText(i));
    a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    connect(a, &QAction::triggered, this, [this, i] { tabs_->setCurrentIndex(i); });
  }
  auto* help = menuBar()->addMenu("&Help");
  auto* about_action = help->addAction("&About linscope");
  about_action->setShortcut(QKeySequence::HelpContents);
  connect(about_action, &QAction::triggered, this, &MainWindow::about);
  help->addAction("About &Qt", qApp, &QApplication::aboutQt);
}

void MainWindow::about() {
  QMessageBox::about(
      this, "About linscope",
      "<h3>linscope</h3><p>An explorer of linear attention and linear recurrent models: the "
      "implicit attention Y = A V, the recurrence, and every form of each model compared.</p>"
      "<p>Models follow these papers:</p><ul>"
      "<li>LION: Afzal et al., <i>Linear Attention for Efficient Bidirectional Sequence "
      "Modeling</i>, arXiv:2502.16249</li>"
      "<li>GateLoop: Katsch, <i>GateLoop: Fully Data-Controlled Linear Recurrence for Sequence "
      "Modeling</i>, arXiv:2311.01927</li>"
      "<li>DeltaNet: Yang et al., <i>Parallelizing Linear Transformers with the Delta Rule over "
      "Sequence Length</i>, arXiv:2406.06484</li>"
      "<li>LCSM: Qin et al., <i>Unlocking the Secrets of Linear Complexity Sequence Model from a "
      "Unified Perspective</i>, arXiv:2405.17383</li>"
      "<li>LightNet: Qin et al., <i>You Only Scan Once: Efficient Multi-dimension Sequential "
      "Modeling with LightNet</i>, arXiv:2405.21022</li></ul>");
}

void MainWindow::setBackend(const QString& name) {
  panel_->setBackend(name);
  recompute();
}

void MainWindow::recompute() {
  debounce_->stop();
  const ComputeRequest r = panel_->request();
  QString note;
  const QString device = controller_->deviceName(r.backend, &note);
  backend_label_->setText("backend: " + r.backend.toUpper());
  device_label_->setText(device);
  panel_->setDeviceText(note.isEmpty() ? device : device + "\n" + note);
  controller_->request(r);
}

// Only the view on screen redraws when a result arrives: at L = 1024 each view's redraw costs
// tens of milliseconds (L x L colour maps), and a hidden view's picture is not seen. The
// others get the result when their tab is shown (or from flushViews: waitIdle, screenshots).
void MainWindow::onComputed(std::shared_ptr<const Computed> c) {
  latest_ = c;
  stale_ = {attention_, recurrence_, forms_};
  pushTo(tabs_->currentWidget());
  emit resultShown(c->generation);
  backend_label_->setText("backend: " + c->backend);
  device_label_->setText(c->device);
  time_label_->setText(QString("last compute: %1 ms").arg(c->total_ms, 0, 'f', 1));
  QStringList errors;
  for (const auto& f : c->forms)
    if (!f.ok) errors << QString::fromStdString(to_string(f.form)) + ": " + f.error;
  if (!c->note.isEmpty()) errors.prepend(c->note);
  if (errors.isEmpty())
    statusBar()->showMessage(QString::fromStdString(describe(c->request.spec)) + ": done", 4000);
  else
    statusBar()->showMessage(errors.join("  |  "));
}

void MainWindow::pushTo(QWidget* view) {
  if (!latest_ || !stale_.removeOne(view)) return;
  const int h = panel_->shownHead();
  if (view == attention_) attention_->setComputed(latest_, h);
  if (view == recurrence_) recurrence_->setComputed(latest_, h);
  if (view == forms_) forms_->setComputed(latest_, h);
}

void MainWindow::flushViews() {
  for (QWidget* v : QList<QWidget*>(stale_)) pushTo(v);
}

void MainWindow::onFailed(const QString& message) {
  time_label_->setText("failed");
  statusBar()->showMessage("Error: " + message);
  attention_->showMessage(message);
}

bool MainWindow::waitIdle(int timeout_ms) {
  QElapsedTimer clock;
  clock.start();
  while ((controller_->busy() || debounce_->isActive()) && clock.elapsed() < timeout_ms)
    QApplication::processEvents(QEventLoop::AllEvents, 50);
  QApplication::processEvents();
  flushViews();
  return !controller_->busy();
}

QString MainWindow::viewKey(int index) const {
  QWidget* w = tabs_->widget(index);
  return w ? w->objectName() : QString("view");
}

bool MainWindow::exportImage(const QString& path, QString* error) {
  QWidget* w = tabs_->currentWidget();
  if (path.endsWith(".svg", Qt::CaseInsensitive)) {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(w->size());
    svg.setViewBox(QRect(QPoint(0, 0), w->size()));
    svg.setTitle("linscope " + viewKey(tabs_->currentIndex()));
    QPainter p;
    if (!p.begin(&svg)) {
      if (error) *error = "cannot write " + path;
      return false;
    }
    w->render(&p);
    p.end();
    return true;
  }
  if (!w->grab().save(path)) {
    if (error) *error = "cannot write the image " + path;
    return false;
  }
  return true;
}

bool MainWindow::exportCsv(const QString& path, QString* error) {
  QWidget* current = tabs_->currentWidget();
  bool ok = false;
  if (current == attention_) {
    ok = attention_->exportCsv(path);
  } else if (current == recurrence_) {
    ok = recurrence_->exportCsv(path);
  } else if (current == forms_) {
    ok = forms_->exportCsv(path);
  } else if (current == profiler_) {
    QString e;
    ok = profiler_->exportCsv(path, &e);
    if (!ok && error) *error = e;
    return ok;
  } else {
    if (error) *error = "this view has no data export";
    return false;
  }
  if (!ok && error) *error = "cannot write " + path;
  return ok;
}

bool MainWindow::renderScreenshots(const QString& dir, QString* error) {
  if (!QDir().mkpath(dir)) {
    if (error) *error = "cannot create " + dir;
    return false;
  }
  resize(1600, 1000);
  recompute();
  if (!waitIdle(120000)) {
    if (error) *error = "the computation did not finish in 120 s";
    return false;
  }
  // Forms view: a short sweep so the time-vs-L plot has curves.
  forms_->setLengths("32,64,128,256,512,1024,2048,4096");
  tabs_->setCurrentIndex(2);
  forms_->startSweep();
  QElapsedTimer clock;
  clock.start();
  while (forms_->sweeping() && clock.elapsed() < 120000)
    QApplication::processEvents(QEventLoop::AllEvents, 50);
  // Multi-dimensional view: its timing table filled (CPU, and the GPU when there is one).
  bool timed = false;
  const auto timing = connect(md_, &MdView::timingsMeasured, this, [&timed] { timed = true; });
  md_->measureTimings();
  // Profiler: a short sweep of the default model so its plots are not empty.
  if (profiler_) {
    profiler_->setLengths("256,512,1024,2048");
    profiler_->setRepetitions(2);
    profiler_->startSweep();
  }
  clock.restart();
  while ((md_->busy() || !timed || inspector_->busy() || (profiler_ && profiler_->running())) &&
         clock.elapsed() < 120000)
    QApplication::processEvents(QEventLoop::AllEvents, 50);
  disconnect(timing);
  // Recurrence view: somewhere in the middle, so a state and a highlighted row show.
  recurrence_->setPosition(recurrence_->positions() / 2);
  for (int i = 0; i < tabs_->count(); ++i) {
    tabs_->setCurrentIndex(i);
    QApplication::processEvents();
    const QString path = QDir(dir).filePath(viewKey(i) + ".png");
    if (!grab().save(path)) {
      if (error) *error = "cannot write " + path;
      return false;
    }
  }
  // One more: bidirectional LION-S, where the mask splits into M^F + M^B − I.
  panel_->familyBox()->setCurrentIndex(int(Family::Lion));
  panel_->decayBox()->setCurrentIndex(int(Decay::S));
  panel_->directionBox()->setCurrentIndex(int(Direction::Bidirectional));
  panel_->normalizeBox()->setChecked(true);
  recompute();
  if (!waitIdle(120000)) {
    if (error) *error = "the LION computation did not finish in 120 s";
    return false;
  }
  for (int i : {0, 1}) {
    tabs_->setCurrentIndex(i);
    if (i == 1) recurrence_->setPosition(recurrence_->positions() / 2);
    QApplication::processEvents();
    const QString path = QDir(dir).filePath(viewKey(i) + "_lion_bidirectional.png");
    if (!grab().save(path)) {
      if (error) *error = "cannot write " + path;
      return false;
    }
  }
  // The inspector on the bundled model: its decays, its gates on the default text, and that
  // model's real attention sent to the attention view.
  tabs_->setCurrentWidget(inspector_);
  QTabWidget* pages = inspector_->tabs();
  for (int i = 0; i < pages->count(); ++i) {
    pages->setCurrentIndex(i);
    QApplication::processEvents();
    const QString path = QDir(dir).filePath(QString("inspector_%1.png").arg(i));
    if (!grab().save(path)) {
      if (error) *error = "cannot write " + path;
      return false;
    }
  }
  pages->setCurrentIndex(0);
  inspector_->emitAttention();  // switches to the attention view
  QApplication::processEvents();
  if (attention_->showingCheckpoint()) {
    const QString path = QDir(dir).filePath("attention_checkpoint.png");
    if (!grab().save(path)) {
      if (error) *error = "cannot write " + path;
      return false;
    }
  }
  tabs_->setCurrentIndex(0);
  return true;
}

void MainWindow::closeEvent(QCloseEvent* e) {
  if (persist_) {
    QSettings s;
    panel_->save(s);
    s.setValue("window/geometry", saveGeometry());
    s.setValue("window/state", saveState());
    s.setValue("window/tab", tabs_->currentIndex());
  }
  QMainWindow::closeEvent(e);
}

}  // namespace linscope::widgets
