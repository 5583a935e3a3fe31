"""PyTorch modules matching the networks tsfast trains, for weights exported with
``tsf.exportSafetensors(learn, file)``: continue training in PyTorch (DDP, fastai + accelerate).

``create_model(arch, n_out)`` returns fastai's ``vision_learner`` layout,
``nn.Sequential(body, head)``:

* ``resnet18`` ... ``resnet152``: the body is ``nn.Sequential`` of torchvision's ResNet
  children up to ``layer4`` (fastai's ``create_body``).
* ``mobilenet_v1_{alpha}`` / ``mobilenet_v2_{alpha}``: Keras-applications MobileNets, as tsfast
  builds them: TensorFlow's ``same`` padding (bottom/right when uneven), BatchNorm eps 1e-3,
  ReLU6; every module is named after its Keras layer (``conv_dw_1``, ``block_3_expand_BN``).
* the head is fastai's ``create_head``: concat(max, avg) pool, flatten, then per linear layer
  BatchNorm1d (eps 1e-5), dropout, linear (no bias after BatchNorm), ReLU between.

Inputs are NCHW, normalised as the tsfast data were (ImageNet statistics for the ResNets,
[-1, 1] for the MobileNets). ``load_safetensors(model, file)`` reads either key naming
(``torchvision``: ``layer1.0.conv1.weight`` ... ``head.4.weight``; ``fastai``: ``0.4.0.conv1.weight``
... ``1.4.weight``) into the model with ``strict=True``.

Example::

    model = create_model("resnet18", n_out=37)
    load_safetensors(model, "pets.safetensors")
    model.eval()
    logits = model(x)  # x: [N, 3, H, W]
"""

import math
import re

import torch
import torch.nn.functional as F
from torch import nn

# Top-level torchvision ResNet children -> index in fastai's create_body Sequential.
RESNET_CHILDREN = {"conv1": 0, "bn1": 1, "layer1": 4, "layer2": 5, "layer3": 6, "layer4": 7}


class Conv2dSame(nn.Conv2d):
    """nn.Conv2d with TensorFlow's ``same`` padding (the extra pixel goes bottom/right)."""

    def forward(self, x):
        pads = []
        for size, k, s in zip(x.shape[-2:], self.kernel_size, self.stride):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = pads
        return super().forward(F.pad(x, (left, right, top, bottom)))


def _bn(c, eps=1e-3):
    return nn.BatchNorm2d(c, eps=eps)


class MobileNetV1(nn.Module):
    """Keras MobileNet v1 body (to ``conv_pw_13_relu``), modules named as Keras layers."""

    BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
              (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, alpha=1.0):
        super().__init__()
        f = lambda n: int(n * alpha)  # noqa: E731
        self.conv1 = Conv2dSame(3, f(32), 3, stride=2, bias=False)
        self.conv1_bn = _bn(f(32))
        c = f(32)
        for i, (filters, stride) in enumerate(self.BLOCKS, start=1):
            setattr(self, f"conv_dw_{i}", Conv2dSame(c, c, 3, stride=stride, groups=c, bias=False))
            setattr(self, f"conv_dw_{i}_bn", _bn(c))
            setattr(self, f"conv_pw_{i}", nn.Conv2d(c, f(filters), 1, bias=False))
            setattr(self, f"conv_pw_{i}_bn", _bn(f(filters)))
            c = f(filters)
        self.out_channels = c

    def forward(self, x):
        x = F.relu6(self.conv1_bn(self.conv1(x)))
        for i in range(1, len(self.BLOCKS) + 1):
            x = F.relu6(getattr(self, f"conv_dw_{i}_bn")(getattr(self, f"conv_dw_{i}")(x)))
            x = F.relu6(getattr(self, f"conv_pw_{i}_bn")(getattr(self, f"conv_pw_{i}")(x)))
        return x


def _make_divisible(v, divisor=8):
    n = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return n + divisor if n < 0.9 * v else n


class MobileNetV2(nn.Module):
    """keras-applications MobileNetV2 body (to ``out_relu``), modules named as Keras layers."""

    STAGES = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
              (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, alpha=1.0):
        super().__init__()
        c = _make_divisible(32 * alpha)
        self.Conv1 = nn.Conv2d(3, c, 3, stride=2, bias=False)
        self.bn_Conv1 = _bn(c)
        self.blocks = []  # (prefix, has_expand, stride, residual)
        block = 0
        for t, ch, n, s in self.STAGES:
            out = _make_divisible(ch * alpha)
            for i in range(n):
                stride = s if i == 0 else 1
                p = "expanded_conv_" if block == 0 else f"block_{block}_"
                hidden = c * t
                if block > 0:
                    setattr(self, f"{p}expand", nn.Conv2d(c, hidden, 1, bias=False))
                    setattr(self, f"{p}expand_BN", _bn(hidden))
                else:
                    hidden = c
                dw = (Conv2dSame if stride == 1 else nn.Conv2d)(
                    hidden, hidden, 3, stride=stride, groups=hidden, bias=False)
                setattr(self, f"{p}depthwise", dw)
                setattr(self, f"{p}depthwise_BN", _bn(hidden))
                setattr(self, f"{p}project", nn.Conv2d(hidden, out, 1, bias=False))
                setattr(self, f"{p}project_BN", _bn(out))
                self.blocks.append((p, block > 0, stride, c == out and stride == 1))
                c = out
                block += 1
        last = _make_divisible(1280 * alpha) if alpha > 1 else 1280
        self.Conv_1 = nn.Conv2d(c, last, 1, bias=False)
        self.Conv_1_bn = _bn(last)
        self.out_channels = last

    def forward(self, x):
        # Keras pads bottom/right before every stride-2 "valid" conv (even input sizes).
        x = F.relu6(self.bn_Conv1(self.Conv1(F.pad(x, (0, 1, 0, 1)))))
        for p, expand, stride, residual in self.blocks:
            y = x
            if expand:
                y = F.relu6(getattr(self, f"{p}expand_BN")(getattr(self, f"{p}expand")(y)))
            if stride == 2:
                y = F.pad(y, (0, 1, 0, 1))
            y = F.relu6(getattr(self, f"{p}depthwise_BN")(getattr(self, f"{p}depthwise")(y)))
            y = getattr(self, f"{p}project_BN")(getattr(self, f"{p}project")(y))
            x = x + y if residual else y
        return F.relu6(self.Conv_1_bn(self.Conv_1(x)))


class AdaptiveConcatPool2d(nn.Module):
    """fastai's concat(max pool, average pool) over the spatial axes."""

    def forward(self, x):
        return torch.cat([F.adaptive_max_pool2d(x, 1), F.adaptive_avg_pool2d(x, 1)], 1)


def create_head(nf, n_out, lin_ftrs=(512,), ps=0.5, concat_pool=True, first_bn=True):
    """fastai's ``create_head`` (the layer indices match fastai's, so state dicts agree)."""
    sizes = [nf * (2 if concat_pool else 1), *lin_ftrs, n_out]
    n_lin = len(sizes) - 1
    ps = [ps / 2] * (n_lin - 1) + [ps] if isinstance(ps, (int, float)) else list(ps)
    layers = [AdaptiveConcatPool2d() if concat_pool else nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    for i in range(n_lin):
        bn = i > 0 or first_bn
        if bn:
            layers.append(nn.BatchNorm1d(sizes[i]))
        if ps[i] > 0:
            layers.append(nn.Dropout(ps[i]))
        layers.append(nn.Linear(sizes[i], sizes[i + 1], bias=not bn))
        if i < n_lin - 1:
            layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def create_body(arch):
    """The body of ``arch`` (``resnet18`` ... ``resnet152``, ``mobilenet_v1_0.75``, ...)."""
    m = re.fullmatch(r"resnet(\d+)", arch)
    if m:
        import torchvision

        net = getattr(torchvision.models, arch)()
        body = nn.Sequential(*list(net.children())[:-2])
        return body, net.fc.in_features
    m = re.fullmatch(r"mobilenet_v([12])_([\d.]+)", arch)
    if m:
        net = (MobileNetV1 if m.group(1) == "1" else MobileNetV2)(float(m.group(2)))
        return net, net.out_channels
    raise ValueError(f"unknown arch {arch!r}: resnet18..152, mobilenet_v1_<alpha>, mobilenet_v2_<alpha>")


def create_model(arch, n_out, lin_ftrs=(512,), ps=0.5, concat_pool=True):
    """fastai's ``vision_learner`` model for ``arch``: ``nn.Sequential(body, head)``."""
    body, nf = create_body(arch)
    return nn.Sequential(body, create_head(nf, n_out, lin_ftrs, ps, concat_pool))


def to_fastai_keys(state, arch):
    """Turns ``torchvision``-named keys (``layer1.0.conv1.weight``, ``head.4.weight``) into
    the keys of ``create_model``'s Sequential (``0.4.0.conv1.weight``, ``1.4.weight``)."""
    out = {}
    for key, value in state.items():
        top, _, rest = key.partition(".")
        if top == "head":
            out[f"1.{rest}"] = value
        elif arch.startswith("resnet") and top in RESNET_CHILDREN:
            out[f"0.{RESNET_CHILDREN[top]}.{rest}"] = value
        else:
            out[f"0.{key}"] = value
    return out


def read_safetensors(file):
    """The tensors of a safetensors file (F32/F64/F16/BF16/I64/I32 ...), without the
    ``safetensors`` package: an 8-byte little-endian header length, a JSON header, raw bytes."""
    import json  # noqa: PLC0415

    dtypes = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
              "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32,
              "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
    with open(file, "rb") as fh:
        data = fh.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    start = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(data[start + begin:start + end])
        t = torch.frombuffer(raw, dtype=dtypes[info["dtype"]]) if raw else torch.zeros(
            0, dtype=dtypes[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out


def load_safetensors(model, file, arch=None):
    """Loads a ``tsf.exportSafetensors`` file into ``create_model``'s model (strict)."""
    return load_state(model, read_safetensors(file), arch)


def load_state(model, state, arch=None):
    """Loads a tsfast state dict (either naming) into ``create_model``'s model (strict)."""
    if not all(k.split(".")[0] in ("0", "1") for k in state):
        if arch is None:
            raise ValueError("pass arch= to load torchvision-named keys")
        state = to_fastai_keys(state, arch)
    model.load_state_dict(state, strict=True)
    return model
