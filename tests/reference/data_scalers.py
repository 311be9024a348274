#!/usr/bin/python3
"""Reference values for tests/data/scalers.test.cpp, from scikit-learn (Debian python3-sklearn 1.2.1).

Run: /usr/bin/python3 tests/reference/data_scalers.py
"""
import numpy as np
from sklearn.preprocessing import MinMaxScaler, StandardScaler

np.set_printoptions(precision=17, linewidth=200)

# 5 samples, 4 features; feature 2 is constant, feature 3 has a large mean and small spread.
X = np.array([[1.0, -2.0, 3.0, 1000.1],
              [2.0, 0.5, 3.0, 1000.3],
              [4.0, 1.5, 3.0, 1000.2],
              [-1.0, 2.0, 3.0, 1000.6],
              [0.5, -0.5, 3.0, 1000.4]])
Xt = np.array([[0.0, 1.0, 4.0, 1001.0], [3.0, -3.0, 2.0, 999.0]])

s = StandardScaler().fit(X)
print("mean_:", s.mean_.tolist())
print("var_:", s.var_.tolist())
print("scale_:", s.scale_.tolist())
print("transform(Xt):", s.transform(Xt).tolist())
s2 = StandardScaler(with_mean=False).fit(X)
print("with_mean=False transform(Xt):", s2.transform(Xt).tolist())

m = MinMaxScaler(feature_range=(-1, 2)).fit(X)
print("minmax scale_:", m.scale_.tolist(), "min_:", m.min_.tolist())
print("minmax transform(Xt):", m.transform(Xt).tolist())
