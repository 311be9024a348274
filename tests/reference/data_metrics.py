#!/usr/bin/python3
"""Reference values for tests/data/metrics.test.cpp, from scikit-learn (Debian python3-sklearn 1.2.1).

Run: /usr/bin/python3 tests/reference/data_metrics.py
The inputs below are pasted verbatim into the C++ test; the printed numbers are pasted as expected values.
"""
import numpy as np
from sklearn import metrics

np.set_printoptions(precision=17)

# regression: 8 samples, 1 and 2 outputs
y = np.array([3.0, -0.5, 2.0, 7.0, 4.2, -1.3, 0.0, 5.5])
p = np.array([2.5, 0.0, 2.1, 7.8, 3.9, -0.7, 0.4, 5.0])
Y2 = np.column_stack([y, 2.0 * y + np.arange(8)])
P2 = np.column_stack([p, 1.9 * p + np.arange(8) + 0.3])
for name, f in [("mse", metrics.mean_squared_error), ("mae", metrics.mean_absolute_error), ("r2", metrics.r2_score)]:
    print(f"{name}: {f(y, p)!r}  2-output: {f(Y2, P2)!r}")
print("rmse:", repr(np.sqrt(metrics.mean_squared_error(y, p))),
      " 2-output:", repr(np.mean(np.sqrt(metrics.mean_squared_error(Y2, P2, multioutput="raw_values")))))

# classification: 12 samples, 3 classes (class 2 is never predicted -> zero division)
t = np.array([0, 1, 2, 2, 1, 0, 0, 1, 2, 1, 0, 1])
q = np.array([0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0])
print("accuracy:", repr(metrics.accuracy_score(t, q)))
print("confusion:\n", metrics.confusion_matrix(t, q))
pr, rc, f1, sup = metrics.precision_recall_fscore_support(t, q, zero_division=0)
print("precision:", pr.tolist(), "\nrecall:", rc.tolist(), "\nf1:", f1.tolist(), "\nsupport:", sup.tolist())
for avg in ["macro"]:
    print(avg, repr(metrics.precision_score(t, q, average=avg, zero_division=0)),
          repr(metrics.recall_score(t, q, average=avg, zero_division=0)),
          repr(metrics.f1_score(t, q, average=avg, zero_division=0)))

# log-loss, multinomial (rows sum to 1) and binary (one column = P(class 1); two columns)
P = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1],
              [0.25, 0.5, 0.25], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
tl = np.array([0, 1, 2, 2, 1, 0, 0])  # the last row gives the true class probability 0: clipped
print("log_loss multinomial float64:", repr(metrics.log_loss(tl, P, labels=[0, 1, 2])))
print("log_loss multinomial float32:", repr(metrics.log_loss(tl, P.astype(np.float32), labels=[0, 1, 2])))
yb = np.array([1, 0, 1, 1, 0, 0, 1, 0])
pb = np.array([0.9, 0.2, 0.6, 0.45, 0.1, 0.7, 1.0, 0.0])
print("log_loss binary:", repr(metrics.log_loss(yb, pb)), repr(metrics.log_loss(yb, np.column_stack([1 - pb, pb]))))

# ROC AUC with ties (scores 0.6 and 0.45 are shared across classes)
s = np.array([0.9, 0.6, 0.6, 0.45, 0.45, 0.1, 0.8, 0.3, 0.6, 0.2])
ys = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 1])
print("roc_auc ties:", repr(metrics.roc_auc_score(ys, s)))
print("roc_auc binary pb:", repr(metrics.roc_auc_score(yb, pb)))
