#pragma once
/// \file metrics.hpp
/// Umbrella header of eigenml's `metrics` module (`namespace eigenml::metrics`): scores with
/// scikit-learn's definitions, returned as `double`.
/// - regression.hpp: mean_squared_error, root_mean_squared_error, mean_absolute_error, r2_score
/// - classification.hpp: accuracy, confusion_matrix, precision / recall / f1_score (per class),
///   macro_*, classification_report, log_loss, roc_auc, format_confusion_matrix

#include "eigenml/core.hpp"
#include "eigenml/metrics/classification.hpp"
#include "eigenml/metrics/regression.hpp"
