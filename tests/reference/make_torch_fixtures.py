#!/usr/bin/python3
"""PyTorch fixtures for eigenml's `io::load_weights` test (tests/io/torch_fixtures.test.cpp).

Run with Debian's Python, which has torch 1.13:  /usr/bin/python3 tests/reference/make_torch_fixtures.py

For each model it writes, under tests/data/torch/:
  <name>.weights.safetensors  the model's state_dict, float32, tensors only (no __metadata__),
                              exactly what PyTorch's safetensors writer would store;
  <name>.io.safetensors       "input" (N x features, float64, flattened per sample as eigenml
                              expects: an image row is C*H*W in C order, a sequence row is T steps
                              of F features) and "output" (float64), computed by the model in
                              float64 from the same (float32-representable) weights.

Tensor names follow state_dict, so they mirror eigenml's Sequential indices. A PyTorch
nn.Sequential cannot hold an nn.LSTM (it returns a tuple), so the recurrent models are small
Modules whose children are registered under the names "0", "1", ... with add_module: their
state_dict keys ("0.weight_ih_l0", "1.weight", ...) are the same as those of the eigenml
Sequential with the same layers at the same indices.

The `safetensors` Python package is not needed: the format is written here with struct + json.
"""

import json
import os
import struct

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "torch")


def write_safetensors(path, tensors):
    """tensors: dict name -> torch.Tensor (float32 or float64). Layout as the reference writer:
    JSON header padded with spaces to a multiple of 8, tensors back to back in name order."""
    dtypes = {torch.float32: "F32", torch.float64: "F64"}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().tobytes(order="C")  # numpy on x86 is little-endian
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


class Recurrent(nn.Module):
    """Children "0", "1", ...: recurrent layers run in order (batch_first), the last one's final
    hidden state goes through the remaining layers. `keep_sequence[i]` says whether layer i
    passes its whole output sequence on (eigenml's return_sequences = true)."""

    def __init__(self, layers, keep_sequence):
        super().__init__()
        for i, layer in enumerate(layers):
            self.add_module(str(i), layer)
        self.keep_sequence = keep_sequence

    def forward(self, x):
        for i, layer in enumerate(self.children()):
            if isinstance(layer, (nn.RNN, nn.LSTM, nn.GRU)):
                out, _ = layer(x)
                x = out if self.keep_sequence[i] else out[:, -1, :]
            else:
                x = layer(x)
        return x


def make(name, model, x, flat_input):
    model.eval()
    write_safetensors(os.path.join(OUT, name + ".weights.safetensors"),
                      {k: v.float() for k, v in model.state_dict().items()})
    with torch.no_grad():
        y = model.double()(x.double())
    write_safetensors(os.path.join(OUT, name + ".io.safetensors"),
                      {"input": flat_input(x.double()), "output": y})
    print(name, list(model.state_dict().keys()), tuple(x.shape), "->", tuple(y.shape))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20261129)
    flat = lambda x: x.reshape(x.shape[0], -1)

    # MLP: eigenml Dense(5,8) ReLU Dense(8,8) Tanh Dense(8,6) GELU Dense(6,3)
    mlp = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 6), nn.GELU(),
                        nn.Linear(6, 3))
    make("mlp", mlp, torch.randn(4, 5), flat)

    # CNN on 2x6x6 images: Conv2D(2->3, k3, p1) ReLU MaxPool2D(k2, s2) Conv2D(3->4, k2, s1)
    # AvgPool2D(k2, s1, p1) Flatten Dense(36, 3)
    cnn = nn.Sequential(nn.Conv2d(2, 3, 3, stride=1, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
                        nn.Conv2d(3, 4, 2, stride=1), nn.AvgPool2d(2, stride=1, padding=1), nn.Flatten(),
                        nn.Linear(36, 3))
    make("cnn", cnn, torch.randn(3, 2, 6, 6), flat)

    # LSTM on sequences of 4 steps x 3 features: LSTM(3->5, last state) Dense(5, 2)
    lstm = Recurrent([nn.LSTM(3, 5, batch_first=True), nn.Linear(5, 2)], [False, False])
    make("lstm", lstm, torch.randn(3, 4, 3), flat)

    # RNN (whole sequence) then GRU (last state) then Dense: RNN(3->4, return_sequences)
    # GRU(4->5) Dense(5, 2)
    rnn_gru = Recurrent([nn.RNN(3, 4, batch_first=True), nn.GRU(4, 5, batch_first=True), nn.Linear(5, 2)],
                        [True, False, False])
    make("rnn_gru", rnn_gru, torch.randn(3, 4, 3), flat)


if __name__ == "__main__":
    main()
