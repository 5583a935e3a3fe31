"""PyTorch 1.13 reference for bench/train-step.ts: the same models, shapes and optimizer.

Usage: /usr/bin/python3 bench/torch/train_step.py [--steps N] [--fwd-steps N] [--batch224 N]
       [--threads N]
       /usr/bin/python3 bench/torch/train_step.py --profile [--batch224 16]
(--profile: torch.autograd.profiler's per-operator self CPU time of one training step of the
224 px model after the warm-up, as a table, beside bench/train-step-profile.ts's)
With --threads N (the all-cores comparison): N threads, wall time, the 224 px model only; run it
with OPENBLAS_NUM_THREADS=N.
Prints one JSON line: images/s forward (eval mode, no grad) and training step (Adam) per model,
single-threaded (torch.set_num_threads(1)) to compare with tfjs wasm, which runs on one thread,
and the BLAS torch runs on (it exits with status 3 on the reference BLAS, see blas.py). Run it
with OPENBLAS_NUM_THREADS=1, and with MALLOC_MMAP_MAX_=0 for the 224 px model: glibc otherwise
maps and unmaps every large activation, which costs PyTorch ~3x there.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from blas import require_fast_blas

torch.manual_seed(0)
# Wall time with --threads N (all cores: PyTorch's default use); process CPU time otherwise.
CLOCK = time.process_time


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(64, 10),
    )


BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
          (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


def bn_relu6(c):
    return [nn.BatchNorm2d(c, eps=1e-5, momentum=0.1), nn.ReLU6()]


def mobilenet_v1(alpha=0.25, classes=1000):
    c = round(32 * alpha)
    layers = [nn.Conv2d(3, c, 3, stride=2, padding=1, bias=False), *bn_relu6(c)]
    for filters, stride in BLOCKS:
        out = round(filters * alpha)
        layers += [nn.Conv2d(c, c, 3, stride=stride, padding=1, groups=c, bias=False), *bn_relu6(c),
                   nn.Conv2d(c, out, 1, bias=False), *bn_relu6(out)]
        c = out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes)]
    return nn.Sequential(*layers)


def measure(model, size, classes, batch, steps, fwd_steps, warmup):
    x = torch.randn(batch, 3, size, size)
    y = torch.randint(0, classes, (batch,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    def fwd():
        with torch.no_grad():
            model(x)

    model.eval()
    for _ in range(warmup):
        fwd()
    t0 = CLOCK()
    for _ in range(fwd_steps):
        fwd()
    fwd_s = (CLOCK() - t0) / fwd_steps
    model.train()
    for _ in range(warmup):
        train()
    t0 = CLOCK()
    for _ in range(steps):
        train()
    train_s = (CLOCK() - t0) / steps
    return {"fwd_img_s": batch / fwd_s, "train_img_s": batch / train_s}


def profile(batch, warmup, steps):
    model = mobilenet_v1(0.75, 37)
    x = torch.randn(batch, 3, 224, 224)
    y = torch.randint(0, 37, (batch,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    model.train()
    for _ in range(warmup):
        train()
    t0 = time.process_time()
    for _ in range(steps):
        train()
    step_ms = (time.process_time() - t0) / steps * 1e3
    with torch.autograd.profiler.profile() as prof:
        for _ in range(steps):
            train()
    print(f"MobileNet v1 0.75 224x224, 37 classes, batch {batch}: {step_ms:.0f} ms/step CPU "
          f"unprofiled ({batch / step_ms * 1e3:.1f} img/s), {steps} steps after {warmup} warm-up")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--fwd-steps", type=int, default=5)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch224", type=int, default=16,
                   help="batch of MobileNet v1 0.75 at 224 px (0 skips it)")
    p.add_argument("--profile", action="store_true",
                   help="print the per-operator profile of the 224 px step instead")
    p.add_argument("--threads", type=int, default=0,
                   help="N > 0: N threads, wall time, the 224 px model only (all-cores run)")
    a = p.parse_args()
    global CLOCK
    blas = require_fast_blas()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
        CLOCK = time.perf_counter
        out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas,
               "mobilenet224": measure(mobilenet_v1(0.75, 37), 224, 37, a.batch224, a.steps,
                                       a.fwd_steps, a.warmup)}
        print(json.dumps(out))
        return
    torch.set_num_threads(1)
    if a.profile:
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s), BLAS {blas}")
        profile(a.batch224, a.warmup, a.steps)
        return
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas,
        "smallcnn": measure(small_cnn(), 64, 10, a.batch, a.steps, a.fwd_steps, a.warmup),
        "mobilenet": measure(mobilenet_v1(), 128, 1000, a.batch, a.steps, a.fwd_steps, a.warmup),
    }
    if a.batch224 > 0:
        out["mobilenet224"] = measure(mobilenet_v1(0.75, 37), 224, 37, a.batch224, a.steps,
                                      a.fwd_steps, a.warmup)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
