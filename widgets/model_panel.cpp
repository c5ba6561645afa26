#include "widgets/model_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

namespace linscope::widgets {
namespace {

QComboBox* combo(const QStringList& items, const QString& tip) {
  auto* c = new QComboBox;
  for (int i = 0; i < items.size(); ++i) c->addItem(items[i], i);
  c->setToolTip(tip);
  return c;
}

QSpinBox* spin(int lo, int hi, int value, const QString& tip) {
  auto* s = new QSpinBox;
  s->setRange(lo, hi);
  s->setValue(value);
  s->setToolTip(tip);
  s->setKeyboardTracking(false);
  return s;
}

QCheckBox* check(const QString& text, const QString& tip) {
  auto* c = new QCheckBox(text);
  c->setToolTip(tip);
  return c;
}

}  // namespace

ModelPanel::ModelPanel(QWidget* parent) : QWidget(parent) {
  family_ = combo({"Linear attention", "LION", "GateLoop", "DeltaNet", "LCSM", "LightNet"},
                  "The model family (MODELS.md §1–6): which recurrence S_t = f(S_{t−1}, k_t, v_t) "
                  "and which implicit attention A (Y = A V) is explored.");
  decay_ = combo({"LIT (λ = 1)", "D (fixed λ)", "S (selective λ_t)"},
                 "The decay λ_t in S_t = λ_t S_{t−1} + k_t v_tᵀ and in the mask M_ij = Π λ_m.\n"
                 "LIT: λ = 1 (no decay). D: λ fixed per head (RetNet-like). S: λ_t = σ(wᵀx_t + b) "
                 "chosen per token.\nOnly linear attention and LION have it.");
  decay_->setCurrentIndex(int(Decay::D));  // a visible decay by default
  direction_ =
      combo({"causal", "bidirectional"},
            "Causal: M_ij = 0 for j > i (each token sees its past).\nBidirectional (LION): "
            "M = M^F + M^B − I, every token sees the whole sequence.\nOnly LION has it.");
  normalize_ = check("Row scaling C⁻¹",
                     "Divide row i of the attention by C_i = q_iᵀ Σ_j M_ij k_j "
                     "(y_t = q_tᵀS_t / q_tᵀz_t).\nLION's default; optional for linear attention.");
  L_ = spin(2, 16384, 128, "Sequence length L: tokens t = 1..L; the attention matrix is L × L.");
  dk_ = spin(1, 512, 16, "d_k: size of q_t and k_t; the state S_t is d_k × d_v.");
  dv_ = spin(1, 512, 16, "d_v: size of v_t and y_t; the state S_t is d_k × d_v.");
  heads_ = spin(1, 16, 2, "H: independent heads, each with its own q, k, v and decay.");
  head_ = spin(0, 1, 0, "The head h (0-based) the views show.");
  chunk_ = spin(1, 4096, 32,
                "Chunk size C of the chunkwise form: attention inside a C-token chunk, the state "
                "S carried between chunks.\nC = 1 is the recurrence, C = L the parallel form.");
  lambda_ = new QDoubleSpinBox;
  lambda_->setRange(0.0, 1.0);
  lambda_->setDecimals(3);
  lambda_->setSingleStep(0.01);
  lambda_->setValue(0.9);
  lambda_->setSpecialValueText("RetNet γ_h");
  lambda_->setKeyboardTracking(false);
  lambda_->setToolTip(
      "λ of decay D: M_ij = λ^{|i−j|}. 0 selects RetNet's per-head "
      "γ_h = 1 − 2^{−5−h}.");
  bias_ = new QDoubleSpinBox;
  bias_->setRange(-10, 10);
  bias_->setValue(4.0);
  bias_->setKeyboardTracking(false);
  bias_->setToolTip(
      "Selective bias b of decay S: λ_t = σ(wᵀx_t + b). σ(4) ≈ 0.98, a memory of "
      "about 50 tokens; lower b forgets faster.");
  const QStringList sources = {"data-dependent", "fixed", "constant"};
  lcsm_preset_ =
      combo({"Linear attention", "Mamba (SSM)", "Long convolution", "Linear RNN", "Custom"},
            "LCSM special case (LCSM paper's table): fills Expand / Oscillation / "
            "Shrink below.\nm_t = o_t ⊙ m_{t−1} + e_t i_tᵀ, y_t = m_tᵀ s_t.");
  expand_ = combo(sources,
                  "Expand e_t (→ k_t): a projection of the input x_t (data-dependent), "
                  "hand-crafted per position (fixed) or a constant.");
  oscillation_ = combo(sources,
                       "Oscillation o_t (→ λ_t, the decay of m_{t−1}): data-dependent, "
                       "fixed, or constant o = 1 (no decay).");
  shrink_ = combo(sources,
                  "Shrink s_t (→ q_t, reads the memory: y_t = m_tᵀ s_t): data-dependent, "
                  "fixed or constant.");
  osc_channel_ = check("o_t per channel",
                       "Oscillation o_t per k-channel (a d_k-vector gate) "
                       "instead of one scalar per step.");
  md_tpe_ = check("MD-TPE",
                  "LightNet's multi-dimensional Toeplitz positional encoding, applied to "
                  "the token features before attention (A is then A(I+T)).");
  md_lrpe_ = check("MD-LRPE",
                   "LightNet's multi-dimensional linearized relative positional "
                   "encoding: rotations of q and k per axis so q_iᵀk_j depends on i − j.");
  seed_ = spin(0, 1 << 30, 1,
               "Seed of the random inputs q, k, v and the decays: the same seed "
               "gives the same inputs to every form and view.");
  backend_ = new QComboBox;
  backend_->addItem("CPU", "cpu");
  backend_->addItem("GPU (CUDA)", "cuda");
  backend_->setToolTip(
      "Where the forms run. GPU uses the CUDA backend when a device is present "
      "and falls back to the CPU (with a note in the status bar) otherwise.");
  device_ = new QLabel;
  device_->setWordWrap(true);
  device_->setToolTip("The device the backend reports.");
  summary_ = new QLabel;
  summary_->setWordWrap(true);
  summary_->setStyleSheet("font-weight: bold");

  auto* model = new QGroupBox("Model");
  auto* mf = new QFormLayout(model);
  mf->addRow("Family", family_);
  mf->addRow("Decay", decay_);
  mf->addRow("λ (decay D)", lambda_);
  mf->addRow("bias b (decay S)", bias_);
  mf->addRow("Direction", direction_);
  mf->addRow(normalize_);
  auto* shape = new QGroupBox("Shape");
  auto* sf = new QFormLayout(shape);
  sf->addRow("L", L_);
  sf->addRow("d_k", dk_);
  sf->addRow("d_v", dv_);
  sf->addRow("heads H", heads_);
  sf->addRow("head shown", head_);
  sf->addRow("chunk C", chunk_);
  sf->addRow("seed", seed_);
  auto* lcsm = new QGroupBox("LCSM (Expand / Oscillation / Shrink)");
  auto* lf = new QFormLayout(lcsm);
  lf->addRow("preset", lcsm_preset_);
  lf->addRow("Expand e", expand_);
  lf->addRow("Oscillation o", oscillation_);
  lf->addRow("Shrink s", shrink_);
  lf->addRow(osc_channel_);
  auto* light = new QGroupBox("LightNet positional encodings");
  auto* gf = new QFormLayout(light);
  gf->addRow(md_tpe_);
  gf->addRow(md_lrpe_);
  auto* run = new QGroupBox("Backend");
  auto* rf = new QFormLayout(run);
  rf->addRow("run on", backend_);
  rf->addRow(device_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(summary_);
  for (QWidget* w :
       {static_cast<QWidget*>(model), static_cast<QWidget*>(shape), static_cast<QWidget*>(lcsm),
        static_cast<QWidget*>(light), static_cast<QWidget*>(run)})
    layout->addWidget(w);
  layout->addStretch(1);

  const auto changed_now = [this] {
    if (loading_) return;
    updateEnabled();
    emit changed();
  };
  for (QComboBox* c : {family_, decay_, direction_, expand_, oscillation_, shrink_})
    connect(c, &QComboBox::currentIndexChanged, this, changed_now);
  for (QCheckBox* c : {normalize_, osc_channel_, md_tpe_, md_lrpe_})
    connect(c, &QCheckBox::toggled, this, changed_now);
  for (QSpinBox* s : {L_, dk_, dv_, heads_, chunk_, seed_})
    connect(s, &QSpinBox::valueChanged, this, changed_now);
  for (QDoubleSpinBox* s : {lambda_, bias_})
    connect(s, &QDoubleSpinBox::valueChanged, this, changed_now);
  connect(lcsm_preset_, &QComboBox::currentIndexChanged, this, [this, changed_now] {
    applyLcsmPreset();
    changed_now();
  });
  connect(head_, &QSpinBox::valueChanged, this, [this](int h) {
    if (!loading_) emit headChanged(h);
  });
  connect(backend_, &QComboBox::currentIndexChanged, this, [this, changed_now] {
    if (!loading_) emit backendChanged(backend_->currentData().toString());
    changed_now();
  });
  applyLcsmPreset();
  updateEnabled();
}

void ModelPanel::applyLcsmPreset() {
  const auto preset = LcsmPreset(lcsm_preset_->currentIndex());
  const bool custom = preset == LcsmPreset::Custom;
  for (QWidget* w : {static_cast<QWidget*>(expand_), static_cast<QWidget*>(oscillation_),
                     static_cast<QWidget*>(shrink_), static_cast<QWidget*>(osc_channel_)})
    w->setEnabled(custom && family_->currentIndex() == int(Family::Lcsm));
  if (custom) return;
  const LcsmSettings s = lcsm_preset(preset);
  const bool was = loading_;
  loading_ = true;
  expand_->setCurrentIndex(int(s.expand));
  oscillation_->setCurrentIndex(int(s.oscillation));
  shrink_->setCurrentIndex(int(s.shrink));
  osc_channel_->setChecked(s.oscillation_per_channel);
  loading_ = was;
}

void ModelPanel::updateEnabled() {
  const auto f = Family(family_->currentIndex());
  const bool decays = f == Family::LinearAttention || f == Family::Lion;
  decay_->setEnabled(decays);
  lambda_->setEnabled(decays && Decay(decay_->currentIndex()) == Decay::D);
  bias_->setEnabled(decays && Decay(decay_->currentIndex()) == Decay::S);
  direction_->setEnabled(f == Family::Lion);
  normalize_->setEnabled(decays);
  lcsm_preset_->setEnabled(f == Family::Lcsm);
  applyLcsmPreset();
  md_tpe_->setEnabled(f == Family::LightNet);
  md_lrpe_->setEnabled(f == Family::LightNet);
  // Chunk size only matters for models with a chunkwise form.
  ComputeRequest r = request();
  chunk_->setEnabled(has_form(r.spec, Form::Chunkwise));
  head_->setMaximum(heads_->value() - 1);
  summary_->setText(QString::fromStdString(describe(r.spec)));
}

ComputeRequest ModelPanel::request() const {
  ComputeRequest r;
  ModelSpec& s = r.spec;
  s.family = Family(family_->currentIndex());
  const bool decays = s.family == Family::LinearAttention || s.family == Family::Lion;
  s.decay = decays ? Decay(decay_->currentIndex()) : Decay::LIT;
  s.direction =
      s.family == Family::Lion ? Direction(direction_->currentIndex()) : Direction::Causal;
  s.normalize = decays && normalize_->isChecked();
  s.lcsm.preset = LcsmPreset(lcsm_preset_->currentIndex());
  s.lcsm.expand = LcsmSource(expand_->currentIndex());
  s.lcsm.oscillation = LcsmSource(oscillation_->currentIndex());
  s.lcsm.shrink = LcsmSource(shrink_->currentIndex());
  s.lcsm.oscillation_per_channel = osc_channel_->isChecked();
  s.lightnet.md_tpe = md_tpe_->isChecked();
  s.lightnet.md_lrpe = md_lrpe_->isChecked();
  r.shape.B = 1;
  r.shape.H = heads_->value();
  r.shape.L = L_->value();
  r.shape.Dk = dk_->value();
  r.shape.Dv = dv_->value();
  r.generate.seed = uint64_t(seed_->value());
  r.generate.lambda = lambda_->value();
  r.generate.selective_bias = bias_->value();
  r.chunk = chunk_->value();
  r.backend = backend_->currentData().toString();
  return r;
}

int ModelPanel::shownHead() const {
  return head_->value();
}

void ModelPanel::setDeviceText(const QString& text) {
  device_->setText(text);
}

void ModelPanel::setBackend(const QString& name) {
  const int i = backend_->findData(name.toLower());
  if (i >= 0) backend_->setCurrentIndex(i);
}

void ModelPanel::save(QSettings& s) const {
  s.beginGroup("model");
  for (auto [key, c] : {std::pair{"family", family_},
                        {"decay", decay_},
                        {"direction", direction_},
                        {"lcsm_preset", lcsm_preset_},
                        {"expand", expand_},
                        {"oscillation", oscillation_},
                        {"shrink", shrink_},
                        {"backend", backend_}})
    s.setValue(key, c->currentIndex());
  for (auto [key, b] : {std::pair{"normalize", normalize_},
                        {"osc_channel", osc_channel_},
                        {"md_tpe", md_tpe_},
                        {"md_lrpe", md_lrpe_}})
    s.setValue(key, b->isChecked());
  for (auto [key, sp] : {std::pair{"L", L_},
                         {"dk", dk_},
                         {"dv", dv_},
                         {"heads", heads_},
                         {"head", head_},
                         {"chunk", chunk_},
                         {"seed", seed_}})
    s.setValue(key, sp->value());
  s.setValue("lambda", lambda_->value());
  s.setValue("bias", bias_->value());
  s.endGroup();
}

void ModelPanel::load(const QSettings& s) {
  loading_ = true;
  const auto get = [&](const char* key) { return s.value(QString("model/") + key); };
  for (auto [key, c] : {std::pair{"family", family_},
                        {"decay", decay_},
                        {"direction", direction_},
                        {"lcsm_preset", lcsm_preset_},
                        {"expand", expand_},
                        {"oscillation", oscillation_},
                        {"shrink", shrink_},
                        {"backend", backend_}})
    if (get(key).isValid()) c->setCurrentIndex(std::clamp(get(key).toInt(), 0, c->count() - 1));
  for (auto [key, b] : {std::pair{"normalize", normalize_},
                        {"osc_channel", osc_channel_},
                        {"md_tpe", md_tpe_},
                        {"md_lrpe", md_lrpe_}})
    if (get(key).isValid()) b->setChecked(get(key).toBool());
  for (auto [key, sp] : {std::pair{"L", L_},
                         {"dk", dk_},
                         {"dv", dv_},
                         {"heads", heads_},
                         {"chunk", chunk_},
                         {"seed", seed_}})
    if (get(key).isValid()) sp->setValue(get(key).toInt());
  head_->setMaximum(heads_->value() - 1);
  if (get("head").isValid()) head_->setValue(get("head").toInt());
  if (get("lambda").isValid()) lambda_->setValue(get("lambda").toDouble());
  if (get("bias").isValid()) bias_->setValue(get("bias").toDouble());
  loading_ = false;
  applyLcsmPreset();
  updateEnabled();
}

}  // namespace linscope::widgets
