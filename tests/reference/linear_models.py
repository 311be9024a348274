#!/usr/bin/python3
"""Reference values for tests/linear_model/*.test.cpp (numpy lstsq and scikit-learn 1.2).

Run with /usr/bin/python3 (numpy + scikit-learn). The data are closed-form functions of the
row/column index, so the C++ tests rebuild them exactly (see make_x / make_y there).
"""
import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge

np.set_printoptions(precision=17)


def make_x(n, d):
    i = np.arange(n)[:, None].astype(float)
    j = np.arange(d)[None, :].astype(float)
    return np.sin(1.3 * i + 0.7 * j * j + 0.5) + 0.5 * np.cos(0.9 * i * (j + 1))


def make_y(X):
    i = np.arange(X.shape[0]).astype(float)
    return 1.5 * X[:, 0] - 2.0 * X[:, 1] + 0.5 * X[:, 2] + 0.3 * np.sin(5.1 * i) + 0.7


def labels2(X):
    i = np.arange(X.shape[0]).astype(float)
    return (X[:, 0] - X[:, 1] + 0.8 * np.sin(3.7 * i) > 0).astype(int)


def labels3(X):
    i = np.arange(X.shape[0]).astype(float)
    s = np.stack([X[:, 0] + 0.5 * np.sin(2.3 * i), X[:, 1] + 0.5 * np.cos(1.7 * i), 0.3 + 0 * i], axis=1)
    return s.argmax(axis=1)


def show(name, v):
    v = np.atleast_1d(np.asarray(v, dtype=float)).ravel()
    print(f"{name}: " + ", ".join(repr(float(x)) for x in v))


X = make_x(60, 4)
y = make_y(X)

# Ordinary least squares with intercept = lstsq on centred data.
Xc = X - X.mean(axis=0)
w = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]
show("ols coef", w)
show("ols intercept", y.mean() - X.mean(axis=0) @ w)

# Ridge alpha = 2.5 (sklearn's objective, intercept not penalised).
r = Ridge(alpha=2.5, solver="cholesky", tol=1e-14).fit(X, y)
show("ridge coef", r.coef_)
show("ridge intercept", r.intercept_)
# Ridge without intercept, closed form.
show("ridge0 coef", np.linalg.solve(X.T @ X + 2.5 * np.eye(4), X.T @ y))

# Rank deficient: columns [a, b, a + b, 2 a] (rank 2), minimum-norm solution on centred data.
A = np.column_stack([X[:, 0], X[:, 1], X[:, 0] + X[:, 1], 2 * X[:, 0]])
Ac = A - A.mean(axis=0)
wr, _, rank, _ = np.linalg.lstsq(Ac, y - y.mean(), rcond=None)
show("rankdef coef", wr)
show("rankdef intercept", y.mean() - A.mean(axis=0) @ wr)
print("rankdef rank:", rank)

# Fewer samples than features, no intercept: minimum-norm interpolant.
Xw = make_x(3, 5)
yw = make_y(make_x(3, 5))
show("wide coef", np.linalg.lstsq(Xw, yw, rcond=None)[0])

# Logistic regression, sklearn objective 0.5||W||^2 + C sum loss, run to tol 1e-14.
y2 = labels2(X)
y3 = labels3(X)
print("class counts binary", np.bincount(y2), "multinomial", np.bincount(y3))
for C in (1.0, 0.1):
    for fi in (True, False):
        m = LogisticRegression(C=C, fit_intercept=fi, tol=1e-14, max_iter=100000).fit(X, y2)
        show(f"logistic2 C={C} fit_intercept={fi} coef", m.coef_)
        show(f"logistic2 C={C} fit_intercept={fi} intercept", m.intercept_)
        m = LogisticRegression(C=C, fit_intercept=fi, tol=1e-14, max_iter=100000, multi_class="multinomial").fit(X, y3)
        show(f"logistic3 C={C} fit_intercept={fi} coef", m.coef_)
        show(f"logistic3 C={C} fit_intercept={fi} intercept", m.intercept_)
# sklearn at its default tolerance (1e-4), to show how far its default lands from the optimum.
m = LogisticRegression(C=1.0).fit(X, y2)
show("logistic2 default-tol coef", m.coef_)
