// Breast cancer diagnosis with logistic regression on the Wisconsin diagnostic data set
// (examples/data/breast_cancer.csv: 569 tumours, 30 features, target 0 = malignant, 1 = benign).
//
// The whole pipeline of a tabular classifier: read the CSV, split it 80/20 keeping the class
// proportions, standardise the features with statistics of the training rows only (so nothing
// about the test rows leaks into the model), fit an L2-penalised logistic regression, and score
// it on the held-out rows. Because the features are standardised, the size of a coefficient is
// comparable across features: the last table lists the five that move the prediction most.

#include <eigenml/eigenml.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

int main() {
  using namespace eigenml;
  using T = double;

  const auto data = io::read_csv<T>(EIGENML_DATA_DIR "/breast_cancer.csv", {.target = "target"});
  const Labels y = data.labels();
  std::printf("breast_cancer.csv: %ld samples, %ld features, %ld malignant / %ld benign\n",
              static_cast<long>(data.X.rows()), static_cast<long>(data.X.cols()),
              static_cast<long>((y.array() == 0).count()), static_cast<long>((y.array() == 1).count()));

  // Stratified 80/20 split, seeded: the same rows every run.
  const auto [train, test] = preprocessing::train_test_split(data.X.rows(), {.test_size = 0.2, .seed = 0, .stratify = &y});
  const Matrix<T> X_train_raw = preprocessing::take_rows(data.X, train);
  const Matrix<T> X_test_raw = preprocessing::take_rows(data.X, test);
  const Labels y_train = preprocessing::take_rows(y, train);
  const Labels y_test = preprocessing::take_rows(y, test);

  preprocessing::StandardScaler<T> scaler;
  const Matrix<T> X_train = scaler.fit_transform(X_train_raw);  // fitted on the training rows only
  const Matrix<T> X_test = scaler.transform(X_test_raw);

  LogisticRegression<T> model({.fit_intercept = true, .C = 1.0});
  model.fit(X_train, y_train);

  const Matrix<T> proba = model.predict_proba(X_test);  // n_test x 2
  const Labels pred = model.predict(X_test);
  const Vector<T> p_benign = proba.col(1);
  const Labels train_pred = model.predict(X_train);

  std::printf("train: %zu rows, test: %zu rows\n\n", train.size(), test.size());
  std::printf("train accuracy  %.4f\n", metrics::accuracy(y_train, train_pred));
  std::printf("test accuracy   %.4f\n", metrics::accuracy(y_test, pred));
  std::printf("test log-loss   %.4f\n", metrics::log_loss(y_test, proba));
  std::printf("test ROC AUC    %.4f\n", metrics::roc_auc(y_test, p_benign));
  const auto report = metrics::classification_report(y_test, pred, 2);
  std::printf("malignant: precision %.3f, recall %.3f;  benign: precision %.3f, recall %.3f\n\n",
              report.precision(0), report.recall(0), report.precision(1), report.recall(1));
  std::printf("confusion matrix (test rows):\n%s\n",
              metrics::format_confusion_matrix(metrics::confusion_matrix(y_test, pred, 2), {"malignant", "benign"}).c_str());

  // Coefficients on standardised features: the change of the log-odds of "benign" per standard
  // deviation of the feature.
  const Matrix<T> coef = model.coef();  // 1 x 30
  std::vector<Index> order(static_cast<std::size_t>(coef.cols()));
  std::iota(order.begin(), order.end(), Index{0});
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return std::abs(coef(0, a)) > std::abs(coef(0, b)); });
  std::printf("the 5 most influential features (coefficient per standard deviation; < 0 points to malignant):\n");
  for (std::size_t k = 0; k < 5 && k < order.size(); ++k) {
    const Index j = order[k];
    std::printf("  %-24s %+.3f\n", data.columns[static_cast<std::size_t>(j)].c_str(), coef(0, j));
  }
  return 0;
}
