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

def logistic_grad_hess(X, y, K, theta, C, fi):
    """Gradient and Hessian of F = (1/n) sum loss_i + ||W||^2 / (2 C n) in theta = [vec(W); b]."""
    n, d = X.shape
    Kr = 1 if K == 2 else K
    Xt = np.hstack([X, np.ones((n, 1))]) if fi else X
    p = Xt.shape[1]
    Th = theta.reshape(Kr, p)  # row k: [W_k, b_k]
    Z = Xt @ Th.T
    if K == 2:
        P = 1.0 / (1.0 + np.exp(-Z))
        Y = y[:, None].astype(float)
    else:
        Z = Z - Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        Y = np.eye(K)[y]
    lam = 1.0 / (C * n)
    pen = np.zeros((Kr, p))
    pen[:, :d] = 1.0
    G = (P - Y).T @ Xt / n + lam * pen * Th
    H = np.zeros((Kr * p, Kr * p))
    for k in range(Kr):
        for l in range(Kr):
            w = P[:, k] * (1 - P[:, k]) if (K == 2 or k == l) else -P[:, k] * P[:, l]
            H[k * p:(k + 1) * p, l * p:(l + 1) * p] = Xt.T @ (w[:, None] * Xt) / n
    H += np.diag(lam * pen.ravel())
    return G.ravel(), H


def newton_polish(X, y, K, coef, intercept, C, fi):
    """Independent check of the optimum: Newton steps (pseudo-inverse for the softmax null
    direction) from sklearn's answer until the gradient is at rounding level."""
    Kr = 1 if K == 2 else K
    theta = np.hstack([coef, intercept[:, None]]).ravel() if fi else coef.ravel()
    for _ in range(20):
        g, H = logistic_grad_hess(X, y, K, theta, C, fi)
        if np.abs(g).max() < 1e-15:
            break
        theta = theta - np.linalg.pinv(H, rcond=1e-12) @ g
    g, _ = logistic_grad_hess(X, y, K, theta, C, fi)
    T = theta.reshape(Kr, -1)
    W = T[:, :X.shape[1]]
    b = T[:, -1] if fi else np.zeros(Kr)
    if K > 2:
        b = b - b.mean()
    return W, b, np.abs(g).max()


# Logistic regression, sklearn objective 0.5||W||^2 + C sum loss, run to tol 1e-14. sklearn's
# lbfgs also stops on a relative decrease of f (ftol = 64 eps), so its answer is only ~1e-5
# accurate; the Newton polish gives the optimum to ~1e-15, which the tests use as truth.
y2 = labels2(X)
y3 = labels3(X)
print("class counts binary", np.bincount(y2), "multinomial", np.bincount(y3))
for C in (1.0, 0.1):
    for fi in (True, False):
        for K, yk in ((2, y2), (3, y3)):
            m = LogisticRegression(C=C, fit_intercept=fi, tol=1e-14, max_iter=100000,
                                   multi_class="multinomial" if K > 2 else "auto").fit(X, yk)
            icpt = m.intercept_ if fi else np.zeros(m.coef_.shape[0])
            W, b, gmax = newton_polish(X, yk, K, m.coef_, icpt, C, fi)
            g_sk, _ = logistic_grad_hess(X, yk, K, np.hstack([m.coef_, icpt[:, None]]).ravel() if fi
                                         else m.coef_.ravel(), C, fi)
            print(f"logistic{K} C={C} fit_intercept={fi}: sklearn max|grad F| = {np.abs(g_sk).max():.3g}, "
                  f"polished max|grad F| = {gmax:.3g}, |sklearn - optimum| = {np.abs(m.coef_ - W).max():.3g}")
            show(f"logistic{K} C={C} fit_intercept={fi} sklearn coef", m.coef_)
            show(f"logistic{K} C={C} fit_intercept={fi} sklearn intercept", icpt)
            show(f"logistic{K} C={C} fit_intercept={fi} optimum coef", W)
            show(f"logistic{K} C={C} fit_intercept={fi} optimum intercept", b)
# sklearn at its default tolerance (1e-4), to show how far its default lands from the optimum.
m = LogisticRegression(C=1.0).fit(X, y2)
show("logistic2 default-tol coef", m.coef_)
