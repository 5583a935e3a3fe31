"""PyTorch 1.13 reference for bench/memory.ts: peak memory of two full training steps
(forward, backward, Adam) of the same models, shapes and head as tsfast's learner.

Usage: OPENBLAS_NUM_THREADS=1 MALLOC_MMAP_MAX_=0 /usr/bin/python3 bench/torch/memory.py \
           --model mobilenet_v1_0.75 --batch 8 [--size 224] [--classes 37]
Prints one JSON line with two peaks over the two steps, both from a baseline taken with the
model and the batch built:
- `peak_tensor_mb`: the high-water mark of live tensor bytes, from the allocation and release
  events of PyTorch's profiler (`profile_memory=True`): what the wasm memory guard counts on
  the tsfast side, and steady from run to run;
- `peak_growth_mb`: the growth of the process's peak resident set size (`ru_maxrss`), with
  `MALLOC_MMAP_MAX_=0` so that glibc serves tensors from the heap and the RSS follows live
  memory; it adds the allocator's slack and varies by ~20 % between runs.
One run per model and batch size (the peak RSS of a process only grows).
"""
import argparse
import json
import resource

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

torch.set_num_threads(1)
torch.manual_seed(0)


def blas_library():
    """The BLAS shared library this process loaded (the reference libblas is 6x slower)."""
    torch.mm(torch.randn(64, 64), torch.randn(64, 64))
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1].rsplit("/", 1)[-1] for line in f if "blas" in line.lower()}
    return sorted(libs)


def conv_bn(cin, cout, k, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout, eps=1e-3, momentum=0.1)]
    if act:
        layers.append(nn.ReLU6())
    return layers


V1_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
             (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


def mobilenet_v1(alpha):
    c = int(32 * alpha)
    layers = conv_bn(3, c, 3, 2)
    for filters, stride in V1_BLOCKS:
        out = int(filters * alpha)
        layers += conv_bn(c, c, 3, stride, groups=c) + conv_bn(c, out, 1)
        c = out
    return nn.Sequential(*layers), c


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        layers = conv_bn(cin, hidden, 1) if t != 1 else []
        layers += conv_bn(hidden, hidden, 3, stride, groups=hidden) + conv_bn(hidden, cout, 1, act=False)
        self.body = nn.Sequential(*layers)
        self.res = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.body(x) if self.res else self.body(x)


def mobilenet_v2():
    layers = conv_bn(3, 32, 3, 2)
    c = 32
    for t, out, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                         (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            layers.append(InvertedResidual(c, out, s if i == 0 else 1, t))
            c = out
    layers += conv_bn(c, 1280, 1)
    return nn.Sequential(*layers), 1280


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


def resnet34():
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
              nn.MaxPool2d(3, 2, 1)]
    c = 64
    for stage, n in enumerate([3, 4, 6, 3]):
        out = 64 * 2 ** stage
        for i in range(n):
            layers.append(BasicBlock(c, out, 2 if i == 0 and stage > 0 else 1))
            c = out
    return nn.Sequential(*layers), 512


class ConcatPool(nn.Module):
    """fastai's AdaptiveConcatPool2d (max, then average)."""

    def forward(self, x):
        return torch.cat([F.adaptive_max_pool2d(x, 1), F.adaptive_avg_pool2d(x, 1)], 1).flatten(1)


def fastai_head(nf, n_out):
    """fastai's create_head: concat pool, BN, dropout 0.25, linear 512, ReLU, BN, dropout 0.5, linear."""
    return nn.Sequential(ConcatPool(), nn.BatchNorm1d(2 * nf), nn.Dropout(0.25),
                         nn.Linear(2 * nf, 512, bias=False), nn.ReLU(), nn.BatchNorm1d(512),
                         nn.Dropout(0.5), nn.Linear(512, n_out, bias=False))


def build(name):
    if name == "resnet34":
        return resnet34()
    if name == "mobilenet_v2_1":
        return mobilenet_v2()
    if name.startswith("mobilenet_v1_"):
        return mobilenet_v1(float(name.rsplit("_", 1)[1]))
    raise SystemExit(f"unknown model {name}")


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--classes", type=int, default=37)
    a = p.parse_args()
    blas = blas_library()
    body, nf = build(a.model)
    model = nn.Sequential(body, fastai_head(nf, a.classes))
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.randint(0, a.classes, (a.batch,))
    base = current_rss_mb()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        for _ in range(2):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    peak = rss_mb()
    live = top = 0
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    for e in sorted(events, key=lambda e: e.start_us()):
        live += e.nbytes()
        top = max(top, live)
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas,
        "model": a.model, "batch": a.batch, "size": a.size,
        "params": sum(p.numel() for p in model.parameters()),
        "base_mb": round(base, 1), "peak_growth_mb": round(peak - base, 1),
        "peak_tensor_mb": round(top / 2**20, 1),
    }))


if __name__ == "__main__":
    main()
