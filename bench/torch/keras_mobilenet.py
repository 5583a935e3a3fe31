"""Keras's MobileNet v1 (the tfjs LayersModel conversion in ../shared/models/mobilenet_v1_0.75_224)
rebuilt in PyTorch with the same arithmetic as tsfast's `buildMobilenetV1`: TensorFlow's `same`
padding (asymmetric for stride 2: nothing before, one row/column after), BatchNorm eps 1e-3,
ReLU6, channels by `int(filters * alpha)`. Weights are read from the tfjs folder or from a dict
of NHWC-layout arrays keyed by Keras weight names (`conv1/kernel`, `conv_dw_1_bn/gamma`, ...).
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
          (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


class SameConv(nn.Conv2d):
    """A bias-free convolution with TensorFlow's `same` padding."""

    def forward(self, x):
        k, s = self.kernel_size[0], self.stride[0]
        h = x.shape[-1]
        total = max(k - s, 0) if h % s == 0 else max(k - h % s, 0)
        before = total // 2
        x = F.pad(x, (before, total - before, before, total - before))
        return F.conv2d(x, self.weight, None, self.stride, 0, 1, self.groups)


def bn(c, momentum):
    return nn.BatchNorm2d(c, eps=1e-3, momentum=momentum)


class MobileNetV1Body(nn.Module):
    """Up to `conv_pw_13_relu`; `self.keras` maps each Keras weight name to its tensor."""

    def __init__(self, alpha=0.75, bn_momentum=0.1):
        super().__init__()
        f = lambda n: int(n * alpha)  # noqa: E731
        layers = [SameConv(3, f(32), 3, 2, bias=False), bn(f(32), bn_momentum), nn.ReLU6()]
        names = [("conv1", "conv"), ("conv1_bn", "bn")]
        c = f(32)
        for i, (filters, stride) in enumerate(BLOCKS, 1):
            out = f(filters)
            layers += [SameConv(c, c, 3, stride, groups=c, bias=False), bn(c, bn_momentum),
                       nn.ReLU6(), SameConv(c, out, 1, 1, bias=False), bn(out, bn_momentum),
                       nn.ReLU6()]
            names += [(f"conv_dw_{i}", "dw"), (f"conv_dw_{i}_bn", "bn"),
                      (f"conv_pw_{i}", "conv"), (f"conv_pw_{i}_bn", "bn")]
            c = out
        self.features = nn.Sequential(*layers)
        self.out_channels = c
        mods = [m for m in self.features if not isinstance(m, nn.ReLU6)]
        self.keras = {}
        for (name, kind), m in zip(names, mods):
            if kind == "bn":
                self.keras.update({f"{name}/gamma": (m.weight, "vec"), f"{name}/beta": (m.bias, "vec"),
                                   f"{name}/moving_mean": (m.running_mean, "vec"),
                                   f"{name}/moving_variance": (m.running_var, "vec")})
            else:
                key = "depthwise_kernel" if kind == "dw" else "kernel"
                self.keras[f"{name}/{key}"] = (m.weight, kind)

    def forward(self, x):
        return self.features(x)

    def load_keras(self, arrays):
        """Copies NHWC-layout Keras arrays (conv [kh,kw,in,out], depthwise [kh,kw,in,1]) in."""
        with torch.no_grad():
            for name, (t, kind) in self.keras.items():
                a = torch.from_numpy(np.array(arrays[name], dtype=np.float32))
                if kind == "conv":
                    a = a.permute(3, 2, 0, 1)
                elif kind == "dw":
                    a = a.permute(2, 3, 0, 1)
                t.copy_(a.reshape(t.shape))

    def keras_grad(self, name):
        """The gradient of a Keras weight, in Keras's layout (None for moving statistics)."""
        t, kind = self.keras[name]
        if t.grad is None:
            return None
        g = t.grad
        if kind == "conv":
            return g.permute(2, 3, 1, 0).contiguous()
        if kind == "dw":
            return g.permute(2, 3, 0, 1).contiguous()
        return g


def read_tfjs_weights(folder):
    """Keras weight name -> numpy array, from a tfjs LayersModel folder (float32 weights)."""
    with open(os.path.join(folder, "model.json")) as f:
        manifest = json.load(f)["weightsManifest"]
    out = {}
    for group in manifest:
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            if w["dtype"] != "float32":
                raise ValueError(f"{folder}: weight {w['name']} is {w['dtype']}, not float32")
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            out[w["name"]] = np.frombuffer(data, np.float32, n, offset).reshape(w["shape"])
            offset += 4 * n
    return out
