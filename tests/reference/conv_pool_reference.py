#!/usr/bin/env python3
"""Reference values for tests/nn/conv2d.test.cpp and tests/nn/pooling.test.cpp.

Run with a Python that has torch (here: /usr/bin/python3, torch 1.13):
    /usr/bin/python3 tests/reference/conv_pool_reference.py
Inputs, weights and upstream gradients are deterministic patterns (written again in the C++
tests): value[idx] = sin(a*idx + b) over the flat C-order index. Prints forward outputs and the
gradients PyTorch's autograd computes for the loss sum(dY * Y), in float64.
"""
import math

import torch

torch.set_default_dtype(torch.float64)


def pattern(shape, a, b, scale=1.0):
    n = math.prod(shape)
    return torch.tensor([scale * math.sin(a * i + b) for i in range(n)]).reshape(shape)


def dump(name, t):
    flat = t.detach().reshape(-1).tolist()
    print(f"// {name}: shape {list(t.shape)}")
    print("{" + ", ".join(f"{v:.17g}" for v in flat) + "}")


# --- Conv2D: N=2, C=2, H=4, W=5, OC=3, k=3, stride 2, padding 1 ---------------------------
x = pattern((2, 2, 4, 5), 0.37, 0.1).requires_grad_()
conv = torch.nn.Conv2d(2, 3, 3, stride=2, padding=1)
with torch.no_grad():
    conv.weight.copy_(pattern((3, 2, 3, 3), 0.23, 0.5, 0.5))
    conv.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
y = conv(x)
dy = pattern(tuple(y.shape), 0.71, -0.3)
(y * dy).sum().backward()
dump("conv Y", y)
dump("conv dX", x.grad)
dump("conv dW", conv.weight.grad)
dump("conv db", conv.bias.grad)

# --- pooling: N=2, C=2, H=5, W=6, kernel 3, stride 2, padding 1 ---------------------------
for name, pool in [("max", torch.nn.MaxPool2d(3, stride=2, padding=1)),
                   ("avg", torch.nn.AvgPool2d(3, stride=2, padding=1))]:
    x = pattern((2, 2, 5, 6), 0.53, 0.2).requires_grad_()
    y = pool(x)
    dy = pattern(tuple(y.shape), 0.41, 0.7)
    (y * dy).sum().backward()
    dump(f"{name}pool Y", y)
    dump(f"{name}pool dX", x.grad)
