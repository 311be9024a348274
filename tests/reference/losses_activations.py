#!/usr/bin/python3
"""Reference values for tests/nn/activations.test.cpp and tests/nn/losses.test.cpp.

Run with a Python that has torch (here /usr/bin/python3, torch 1.13):
    /usr/bin/python3 tests/reference/losses_activations.py
Everything is computed in float64 by PyTorch's own modules; the printed numbers are pasted into
the tests.
"""
import torch

torch.set_default_dtype(torch.float64)


def show(name, t):
    flat = ", ".join("%.17g" % v for v in t.detach().reshape(-1).tolist())
    print("%s (%s): %s" % (name, "x".join(str(s) for s in t.shape), flat))


# Activations: forward values on a fixed 2x4 input (no zeros, so ReLU's kink is avoided).
X = torch.tensor([[-2.0, -0.5, 0.25, 1.5], [3.0, -1.25, 0.75, -4.0]])
for name, mod in [
    ("ReLU", torch.nn.ReLU()),
    ("LeakyReLU(0.1)", torch.nn.LeakyReLU(0.1)),
    ("Sigmoid", torch.nn.Sigmoid()),
    ("Tanh", torch.nn.Tanh()),
    ("Softmax(dim=1)", torch.nn.Softmax(dim=1)),
    ("GELU", torch.nn.GELU()),  # approximate='none': the exact erf form
]:
    x = X.clone().requires_grad_(True)
    y = mod(x)
    show(name + " y", y)
    # Gradient of sum(R * y) for a fixed R, i.e. backward(R).
    R = torch.tensor([[0.5, -1.0, 2.0, 0.25], [-0.75, 1.5, 1.0, -2.0]])
    (y * R).sum().backward()
    show(name + " dX for dY=R", x.grad)

# Losses: value and gradient with respect to the predictions.
P = torch.tensor([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]])
Y = torch.tensor([[1.0, 0.0], [1.5, -0.5], [0.0, 2.0]])
p = P.clone().requires_grad_(True)
loss = torch.nn.MSELoss()(p, Y)
loss.backward()
show("MSE loss", loss)
show("MSE grad", p.grad)

B = torch.tensor([[1.0, 0.0], [0.25, 1.0], [0.0, 0.5]])
p = P.clone().requires_grad_(True)
loss = torch.nn.BCEWithLogitsLoss()(p, B)
loss.backward()
show("BCE loss", loss)
show("BCE grad", p.grad)

Z = torch.tensor([[1.0, 2.0, -1.0], [0.5, -0.5, 3.0], [-2.0, 0.0, 0.25], [1.5, 1.5, 1.5]])
labels = torch.tensor([1, 0, 2, 2])
z = Z.clone().requires_grad_(True)
loss = torch.nn.CrossEntropyLoss()(z, labels)
loss.backward()
show("CE loss", loss)
show("CE grad", z.grad)

# GELU far in the negative tail, where x * 0.5 * (1 + erf(x / sqrt 2)) cancels to 0 in float64:
# x * Phi(x) and Phi(x) + x phi(x) from scipy's ndtr (accurate in the tail).
import math
from scipy.special import ndtr

for x in [-10.0, -30.0]:
    print("GELU tail x=%g: y = %.17g, dy/dx = %.17g"
          % (x, x * ndtr(x), ndtr(x) + x * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)))
