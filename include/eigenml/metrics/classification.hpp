#pragma once
/// \file metrics/classification.hpp
/// Classification metrics with scikit-learn's definitions: accuracy, confusion matrix,
/// per-class and macro precision / recall / F1, log-loss from probabilities, binary ROC AUC, and a
/// text rendering of a confusion matrix. Scores are returned as `double` whatever the input's
/// scalar type (sums are accumulated in double).

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"

namespace eigenml::metrics {

namespace detail_cls {

using LabelsRef = Eigen::Ref<const Labels>;

/// `y` as a label vector (no copy for a `Labels` or a contiguous block of one); throws unless it is
/// a single column.
template <class Derived>
LabelsRef labels(std::string_view where, std::string_view name, const Eigen::MatrixBase<Derived>& y) {
  static_assert(std::is_same_v<typename Derived::Scalar, int>, "labels are int vectors (eigenml::Labels)");
  if (y.cols() != 1)
    eigenml::detail::fail(where, std::string(name) + " has shape " + eigenml::detail::shape_of(y) +
                                     ", expected one column of labels");
  return LabelsRef(y.derived());
}

/// Common checks of a (y_true, y_pred) pair of label vectors; returns K, the number of classes:
/// `num_classes` if given (> 0, and every label must be below it), else max label + 1.
template <class L>
Index check_label_pair(std::string_view where, const L& y_true, const L& y_pred, Index num_classes) {
  eigenml::detail::check_nonempty(where, "y_true", y_true);
  eigenml::detail::check_rows(where, "y_true", y_true.size(), "y_pred", y_pred.size());
  if (num_classes < 0)
    eigenml::detail::fail(where, "num_classes must be >= 1 (or 0 to infer), got " + std::to_string(num_classes));
  const Index inferred = std::max(y_true.maxCoeff(), y_pred.maxCoeff()) + 1;
  const Index K = num_classes > 0 ? num_classes : inferred;
  auto check = [&](const L& y, const char* name) {
    for (Index i = 0; i < y.size(); ++i)
      if (y(i) < 0 || y(i) >= K)
        eigenml::detail::fail(where, std::string(name) + " label " + std::to_string(y(i)) + " at row " +
                                         std::to_string(i) + " is outside 0.." + std::to_string(K - 1));
  };
  check(y_true, "y_true");
  check(y_pred, "y_pred");
  return K;
}

template <class L>
Eigen::MatrixXi confusion_matrix(std::string_view where, const L& y_true, const L& y_pred, Index num_classes) {
  const Index K = check_label_pair(where, y_true, y_pred, num_classes);
  Eigen::MatrixXi cm = Eigen::MatrixXi::Zero(K, K);
  for (Index i = 0; i < y_true.size(); ++i) ++cm(y_true(i), y_pred(i));
  return cm;
}

}  // namespace detail_cls

// The label arguments below are any int column vector expression (`Labels`, a block of one, a
// `Map`): templates, as Eigen's own functions take `MatrixBase<Derived>`, which also means a
// program that never calls a metric never compiles one.

/// Fraction of samples whose predicted label equals the true one: `mean(y_true == y_pred)`.
template <class A, class B>
double accuracy(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred) {
  constexpr const char* where = "metrics::accuracy";
  const auto t = detail_cls::labels(where, "y_true", y_true), p = detail_cls::labels(where, "y_pred", y_pred);
  eigenml::detail::check_nonempty(where, "y_true", t);
  eigenml::detail::check_rows(where, "y_true", t.size(), "y_pred", p.size());
  return static_cast<double>((t.array() == p.array()).count()) / static_cast<double>(t.size());
}

/// K x K counts: entry (i, j) is the number of samples of true class i predicted as class j (rows
/// true, columns predicted, as scikit-learn). `K = num_classes` if given, else the largest label
/// of either vector + 1. Labels must lie in `0..K-1`.
template <class A, class B>
Eigen::MatrixXi confusion_matrix(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred,
                                 Index num_classes = 0) {
  constexpr const char* where = "metrics::confusion_matrix";
  return detail_cls::confusion_matrix(where, detail_cls::labels(where, "y_true", y_true),
                                      detail_cls::labels(where, "y_pred", y_pred), num_classes);
}

/// Per-class and macro-averaged precision, recall and F1 in one pass.
/// For class c with true positives TP, false positives FP and false negatives FN:
/// `precision = TP / (TP + FP)`, `recall = TP / (TP + FN)`, `F1 = 2 TP / (2 TP + FP + FN)`;
/// a 0/0 ratio is 0 (scikit-learn's `zero_division` default, without the warning).
/// The macro averages are unweighted means over the classes that occur in `y_true` or `y_pred`
/// (scikit-learn's default label set); `support(c)` is the number of true samples of class c.
struct ClassificationReport {
  Eigen::VectorXd precision;  ///< K values
  Eigen::VectorXd recall;     ///< K values
  Eigen::VectorXd f1;         ///< K values
  Eigen::VectorXi support;    ///< K counts
  double macro_precision = 0;
  double macro_recall = 0;
  double macro_f1 = 0;
  double accuracy = 0;
};

/// Computes a ClassificationReport; `num_classes` as for confusion_matrix.
template <class A, class B>
ClassificationReport classification_report(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred,
                                           Index num_classes = 0) {
  constexpr const char* where = "metrics::classification_report";
  const Eigen::MatrixXi cm = detail_cls::confusion_matrix(where, detail_cls::labels(where, "y_true", y_true),
                                                          detail_cls::labels(where, "y_pred", y_pred), num_classes);
  const Index K = cm.rows();
  ClassificationReport r;
  r.precision.resize(K);
  r.recall.resize(K);
  r.f1.resize(K);
  r.support = cm.rowwise().sum();
  const Eigen::VectorXi predicted = cm.colwise().sum().transpose();
  auto ratio = [](double num, double den) { return den > 0 ? num / den : 0.0; };
  Index present = 0;
  for (Index c = 0; c < K; ++c) {
    const double tp = cm(c, c);
    const double fp = predicted(c) - cm(c, c);
    const double fn = r.support(c) - cm(c, c);
    r.precision(c) = ratio(tp, tp + fp);
    r.recall(c) = ratio(tp, tp + fn);
    r.f1(c) = ratio(2 * tp, 2 * tp + fp + fn);
    if (r.support(c) > 0 || predicted(c) > 0) {
      ++present;
      r.macro_precision += r.precision(c);
      r.macro_recall += r.recall(c);
      r.macro_f1 += r.f1(c);
    }
  }
  r.macro_precision /= static_cast<double>(present);
  r.macro_recall /= static_cast<double>(present);
  r.macro_f1 /= static_cast<double>(present);
  r.accuracy = static_cast<double>(cm.trace()) / static_cast<double>(cm.sum());
  return r;
}

/// Per-class precision `TP / (TP + FP)` (K values; 0 where nothing was predicted as the class).
template <class A, class B>
Eigen::VectorXd precision(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred, Index num_classes = 0) {
  return classification_report(y_true, y_pred, num_classes).precision;
}
/// Per-class recall `TP / (TP + FN)` (K values; 0 for a class absent from y_true).
template <class A, class B>
Eigen::VectorXd recall(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred, Index num_classes = 0) {
  return classification_report(y_true, y_pred, num_classes).recall;
}
/// Per-class F1 `2 TP / (2 TP + FP + FN)`, the harmonic mean of precision and recall (K values).
template <class A, class B>
Eigen::VectorXd f1_score(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred, Index num_classes = 0) {
  return classification_report(y_true, y_pred, num_classes).f1;
}
/// Macro precision: mean of the per-class precisions over the classes present in y_true or y_pred.
template <class A, class B>
double macro_precision(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred) {
  return classification_report(y_true, y_pred).macro_precision;
}
/// Macro recall (balanced accuracy when every class occurs in y_true).
template <class A, class B>
double macro_recall(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred) {
  return classification_report(y_true, y_pred).macro_recall;
}
/// Macro F1: mean of the per-class F1 scores (not the F1 of the macro precision and recall).
template <class A, class B>
double macro_f1(const Eigen::MatrixBase<A>& y_true, const Eigen::MatrixBase<B>& y_pred) {
  return classification_report(y_true, y_pred).macro_f1;
}

/// Mean negative log-likelihood of the true labels under predicted probabilities:
/// `-(1/n) sum_i log p(i, y_i)`.
///
/// `proba` is `n x K` (row i: the probabilities of classes 0..K-1, K >= 2; labels in 0..K-1), or
/// `n x 1` for a binary problem (the probability of class 1; labels in {0, 1}). As scikit-learn
/// (>= 1.2), each probability is clipped to `[eps, 1 - eps]` and each row then renormalised to sum
/// to 1, so a confident wrong answer costs `-log(eps)` instead of infinity; `eps` defaults to the
/// machine epsilon of the probabilities' scalar type (scikit-learn's `eps="auto"`).
/// Probabilities must be finite and lie in [0, 1].
template <class Derived>
double log_loss(const Labels& y_true, const Eigen::MatrixBase<Derived>& proba,
                double eps = std::numeric_limits<typename Derived::Scalar>::epsilon()) {
  constexpr const char* where = "metrics::log_loss";
  eigenml::detail::check_nonempty(where, "y_true", y_true);
  eigenml::detail::check_rows(where, "y_true", y_true.size(), "proba", proba.rows());
  eigenml::detail::check_finite(where, "proba", proba);
  if (!(eps > 0.0 && eps < 0.5)) eigenml::detail::fail(where, "eps must be in (0, 0.5), got " + std::to_string(eps));
  const Index n = proba.rows();
  const bool binary_column = proba.cols() == 1;
  const Index K = binary_column ? 2 : proba.cols();
  if (K < 2) eigenml::detail::fail(where, "proba has shape " + eigenml::detail::shape_of(proba) + ", expected n x 1 or n x K with K >= 2");
  eigenml::detail::check_labels(where, y_true, K);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < proba.cols(); ++j) {
      const double p = static_cast<double>(proba(i, j));
      if (p < 0.0 || p > 1.0)
        eigenml::detail::fail(where, "proba(" + std::to_string(i) + ", " + std::to_string(j) + ") = " + std::to_string(p) +
                                         " is not a probability in [0, 1]");
    }
  auto clip = [eps](double p) { return std::clamp(p, eps, 1.0 - eps); };
  double total = 0.0;
  for (Index i = 0; i < n; ++i) {
    double row_sum = 0.0, p_true = 0.0;
    if (binary_column) {
      const double p1 = static_cast<double>(proba(i, 0));
      const double q0 = clip(1.0 - p1), q1 = clip(p1);
      row_sum = q0 + q1;
      p_true = y_true(i) == 1 ? q1 : q0;
    } else {
      for (Index j = 0; j < K; ++j) row_sum += clip(static_cast<double>(proba(i, j)));
      p_true = clip(static_cast<double>(proba(i, y_true(i))));
    }
    total -= std::log(p_true / row_sum);
  }
  return total / static_cast<double>(n);
}

/// Area under the ROC curve of a binary problem, from scores (higher = more likely class 1):
/// the probability that a random positive scores above a random negative, ties counting half.
/// Computed exactly from average ranks (the Mann-Whitney U statistic):
/// `AUC = (R_1 - n_1 (n_1 + 1) / 2) / (n_1 n_0)`, where `R_1` is the sum of the positives' ranks.
/// `y_true` must hold only 0 and 1, and both must occur. Scores must be finite.
template <class Derived>
double roc_auc(const Labels& y_true, const Eigen::MatrixBase<Derived>& scores) {
  constexpr const char* where = "metrics::roc_auc";
  eigenml::detail::check_nonempty(where, "y_true", y_true);
  if (scores.cols() != 1)
    eigenml::detail::fail(where, "scores has shape " + eigenml::detail::shape_of(scores) +
                                     ", expected a column (n x 1): one score per sample (e.g. proba.col(1))");
  eigenml::detail::check_rows(where, "y_true", y_true.size(), "scores", scores.rows());
  eigenml::detail::check_finite(where, "scores", scores);
  eigenml::detail::check_labels(where, y_true, 2);
  const Index n = y_true.size();
  const Index n1 = y_true.sum();
  const Index n0 = n - n1;
  if (n1 == 0 || n0 == 0)
    eigenml::detail::fail(where, "y_true holds only class " + std::to_string(n1 == 0 ? 0 : 1) +
                                     "; ROC AUC needs both classes");
  std::vector<Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return scores(a, 0) < scores(b, 0); });
  // Tied scores share the mean of the ranks they span (ranks are 1-based).
  double rank_sum_pos = 0.0;
  for (Index start = 0; start < n;) {
    Index end = start + 1;
    while (end < n && scores(order[static_cast<std::size_t>(end)], 0) == scores(order[static_cast<std::size_t>(start)], 0)) ++end;
    const double mean_rank = 0.5 * static_cast<double>(start + 1 + end);
    for (Index k = start; k < end; ++k)
      if (y_true(order[static_cast<std::size_t>(k)]) == 1) rank_sum_pos += mean_rank;
    start = end;
  }
  const double u = rank_sum_pos - 0.5 * static_cast<double>(n1) * static_cast<double>(n1 + 1);
  return u / (static_cast<double>(n1) * static_cast<double>(n0));
}

/// A confusion matrix as aligned text, rows true and columns predicted, e.g.
/// ```
///        predicted
/// true      0    1
///    0     50    3
///    1      2   45
/// ```
/// `names` (optional, one per class) label the rows and columns instead of the class indices.
template <class Derived>
std::string format_confusion_matrix(const Eigen::MatrixBase<Derived>& counts, const std::vector<std::string>& names = {}) {
  static_assert(std::is_same_v<typename Derived::Scalar, int>, "a confusion matrix holds int counts");
  const Eigen::MatrixXi cm = counts;
  constexpr const char* where = "metrics::format_confusion_matrix";
  if (cm.rows() != cm.cols() || cm.size() == 0)
    eigenml::detail::fail(where, "cm has shape " + eigenml::detail::shape_of(cm) + ", expected a non-empty K x K matrix");
  const Index K = cm.rows();
  if (!names.empty() && static_cast<Index>(names.size()) != K)
    eigenml::detail::fail(where, "got " + std::to_string(names.size()) + " names for " + std::to_string(K) + " classes");
  auto label = [&](Index c) { return names.empty() ? std::to_string(c) : names[static_cast<std::size_t>(c)]; };
  std::size_t cell = 1, head = 4;  // head: width of the row-label column, at least "true"
  for (Index c = 0; c < K; ++c) {
    cell = std::max(cell, label(c).size());
    head = std::max(head, label(c).size());
  }
  for (Index i = 0; i < cm.size(); ++i) cell = std::max(cell, std::to_string(cm.data()[i]).size());
  auto pad_left = [](const std::string& s, std::size_t w) { return std::string(w > s.size() ? w - s.size() : 0, ' ') + s; };
  auto pad_right = [](const std::string& s, std::size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); };
  std::string out = pad_right("", head) + "  predicted\n" + pad_right("true", head);
  for (Index c = 0; c < K; ++c) out += "  " + pad_left(label(c), cell);
  out += '\n';
  for (Index r = 0; r < K; ++r) {
    out += pad_left(label(r), head);
    for (Index c = 0; c < K; ++c) out += "  " + pad_left(std::to_string(cm(r, c)), cell);
    out += '\n';
  }
  return out;
}

}  // namespace eigenml::metrics
