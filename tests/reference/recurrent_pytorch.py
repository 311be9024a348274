#!/usr/bin/python3
"""Reference outputs of torch.nn.RNN / LSTM / GRU (torch 1.13, float64) for tests/nn/recurrent.test.cpp.

Weights and inputs are closed-form (math.sin / math.cos, the same libm the C++ test calls), so the
test rebuilds them exactly:
    parameter k (0 = weight_ih_l0, 1 = weight_hh_l0, 2 = bias_ih_l0, 3 = bias_hh_l0),
    entry (i, j) (j = 0 for biases):  0.6 * sin(0.37*(i+1) + 0.91*(j+1) + 1.3*k)
    input sample n, step t, feature f: 1.5 * cos(1.1*n + 0.7*t + 0.45*f)
Sizes: N = 2, T = 5, F = 3, H = 4. Prints every hidden state h_t (batch first, N x T*H, step after
step) with 17 significant digits, as C++ initialiser lists.
Run: /usr/bin/python3 tests/reference/recurrent_pytorch.py
"""
import math

import torch

N, T, F, H = 2, 5, 3, 4


def param_value(k, i, j):
    return 0.6 * math.sin(0.37 * (i + 1) + 0.91 * (j + 1) + 1.3 * k)


def fill(module):
    names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    with torch.no_grad():
        for k, name in enumerate(names):
            p = getattr(module, name)
            if p.dim() == 2:
                for i in range(p.shape[0]):
                    for j in range(p.shape[1]):
                        p[i, j] = param_value(k, i, j)
            else:
                for i in range(p.shape[0]):
                    p[i] = param_value(k, i, 0)


x = torch.empty(N, T, F, dtype=torch.float64)
for n in range(N):
    for t in range(T):
        for f in range(F):
            x[n, t, f] = 1.5 * math.cos(1.1 * n + 0.7 * t + 0.45 * f)

for cls in (torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU):
    m = cls(F, H, batch_first=True).double()
    fill(m)
    out, _ = m(x)  # N x T x H, every hidden state
    flat = out.reshape(N, T * H)
    print(f"// {cls.__name__}: every h_t, N x T*H")
    for n in range(N):
        print("    " + ", ".join(f"{v:.17g}" for v in flat[n].tolist()) + ",")
