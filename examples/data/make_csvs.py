#!/usr/bin/python3
"""Regenerate the CSV data sets in examples/data/ from Debian's python3-sklearn package.

Run with Debian's interpreter (it has sklearn): /usr/bin/python3 examples/data/make_csvs.py

- digits.csv: sklearn's digits.csv.gz (1,797 rows of 64 pixel counts 0..16 and the digit) with a
  header pixel_0..pixel_63,label. Pixel i is row i // 8, column i % 8 of the 8x8 image.
- breast_cancer.csv: sklearn's breast_cancer.csv (569 rows of 30 features and the class) with the
  feature names sklearn gives them and a final column `target` (0 = malignant, 1 = benign).

The numeric tokens are copied as text, so the values are exactly those of the source files.
"""
import csv
import gzip
import os
import sys

import sklearn
from sklearn.datasets import load_breast_cancer

SRC = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "data")
OUT = os.path.dirname(os.path.abspath(__file__))


def digits():
    with gzip.open(os.path.join(SRC, "digits.csv.gz"), "rt") as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    assert len(rows) == 1797 and all(len(r) == 65 for r in rows)
    with open(os.path.join(OUT, "digits.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([f"pixel_{i}" for i in range(64)] + ["label"])
        for r in rows:
            # The source writes integers as floats ("0.0") in some versions: store them as integers.
            w.writerow([str(int(float(v))) for v in r])


def breast_cancer():
    names = list(load_breast_cancer().feature_names)
    assert len(names) == 30
    with open(os.path.join(SRC, "breast_cancer.csv")) as f:
        reader = csv.reader(f)
        n, d = (int(v) for v in next(reader)[:2])  # first line: "569,30,malignant,benign"
        rows = [r for r in reader if r]
    assert n == 569 and d == 30 and len(rows) == n and all(len(r) == d + 1 for r in rows)
    with open(os.path.join(OUT, "breast_cancer.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names + ["target"])
        for r in rows:
            w.writerow([v.strip() for v in r[:d]] + [str(int(r[d]))])


if __name__ == "__main__":
    digits()
    breast_cancer()
    sys.exit(0)
