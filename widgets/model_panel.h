// The model panel: every setting of the model being explored, with tooltips that say what each
// one is in the equations (MODELS.md). Settings that do not apply to the chosen family are
// disabled. It produces a ComputeRequest and persists itself in QSettings.
#pragma once
#include <QWidget>

#include "widgets/compute_controller.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;
class QSettings;

namespace linscope::widgets {

class ModelPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ModelPanel(QWidget* parent = nullptr);

  ComputeRequest request() const;
  int shownHead() const;
  void setDeviceText(const QString& text);
  void setBackend(const QString& name);  // "cpu" or "cuda"

  void save(QSettings& s) const;
  void load(const QSettings& s);

  // For tests and the command line.
  QComboBox* familyBox() const { return family_; }
  QComboBox* decayBox() const { return decay_; }
  QComboBox* directionBox() const { return direction_; }
  QDoubleSpinBox* lambdaBox() const { return lambda_; }
  QSpinBox* lengthBox() const { return L_; }
  QSpinBox* seedBox() const { return seed_; }
  QSpinBox* headBox() const { return head_; }
  QSpinBox* chunkBox() const { return chunk_; }
  QSpinBox* dkBox() const { return dk_; }
  QSpinBox* dvBox() const { return dv_; }
  QSpinBox* headsBox() const { return heads_; }
  QCheckBox* normalizeBox() const { return normalize_; }

 signals:
  void changed();           // anything that needs a recompute
  void headChanged(int h);  // only the shown head (no recompute)
  void backendChanged(const QString& backend);

 private:
  void updateEnabled();
  void applyLcsmPreset();

  QComboBox *family_, *decay_, *direction_, *backend_;
  QCheckBox* normalize_;
  QSpinBox *L_, *dk_, *dv_, *heads_, *head_, *chunk_, *seed_;
  QDoubleSpinBox *lambda_, *bias_;
  QComboBox *lcsm_preset_, *expand_, *oscillation_, *shrink_;
  QCheckBox *osc_channel_, *md_tpe_, *md_lrpe_;
  QLabel *device_, *summary_;
  bool loading_ = false;
};

}  // namespace linscope::widgets
