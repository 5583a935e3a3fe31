"""fastai's head trained on fixed features of the frozen body (bench/frozen-features.ts).

Mirrors the frozen phase of the recommended recipe without the body's forward pass: fastai's
head (BatchNorm, dropout 0.25, Linear 512 without bias, ReLU, BatchNorm, dropout 0.5, Linear),
fastai's Adam (AdamW, betas 0.9/0.99, weight decay 0.01), one-cycle lr (div 25, final div 1e5)
with a chosen warm-up fraction, batches of 8, one augmented pass of the training set per epoch.
Each schedule runs over several seeds (the spread across seeds is of the same size as the
differences between schedules, so one run of each says little), and the error is split into
the three breeds with 200 photos and the 34 breeds with 10.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch/head_on_features.py FEATURES.json [--seeds 8]

Last line JSON: mean validation error per schedule.
"""
import argparse
import json
import statistics

import torch

BIG = ("Abyssinian", "american_bulldog", "Bengal")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("features")
    ap.add_argument("--seeds", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(1)
    d = json.load(open(a.features))
    vocab = d["vocab"]
    xv = torch.tensor(d["valid"]["X"])
    yv = torch.tensor(d["valid"]["Y"]).long()
    passes = [(torch.tensor(p["X"]), torch.tensor(p["Y"]).long()) for p in d["train"]]
    big = torch.tensor([vocab[int(y)] in BIG for y in yv])
    counts = torch.bincount(passes[0][1], minlength=len(vocab)).float()

    def run(epochs, pct, seed, lr=2e-3, bs=8, smoothing=0.0, balanced=False):
        torch.manual_seed(seed)
        n = xv.shape[1]
        head = torch.nn.Sequential(
            torch.nn.BatchNorm1d(n), torch.nn.Dropout(0.25), torch.nn.Linear(n, 512, bias=False),
            torch.nn.ReLU(), torch.nn.BatchNorm1d(512), torch.nn.Dropout(0.5),
            torch.nn.Linear(512, len(vocab), bias=False))
        weight = counts.sum() / counts / len(vocab) if balanced else None
        loss_fn = torch.nn.CrossEntropyLoss(weight=weight, label_smoothing=smoothing)
        opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.99))
        steps = (len(passes[0][1]) + bs - 1) // bs
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=lr, total_steps=epochs * steps, pct_start=pct, div_factor=25,
            final_div_factor=1e5)
        for e in range(epochs):
            x, y = passes[e % len(passes)]
            head.train()
            perm = torch.randperm(len(y))
            for i in range(0, len(y), bs):
                idx = perm[i:i + bs]
                if len(idx) < 2:
                    continue
                loss = loss_fn(head(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        head.eval()
        with torch.no_grad():
            wrong = head(xv).argmax(1) != yv
        return float(wrong.float().mean()), int(wrong[big].sum()), int(wrong[~big].sum())

    schedules = {
        "3 epochs, warm-up 0.99 (fine_tune)": dict(epochs=3, pct=0.99),
        "3 epochs, warm-up 0.25 (fit_one_cycle)": dict(epochs=3, pct=0.25),
        "5 epochs, warm-up 0.25": dict(epochs=5, pct=0.25),
        "8 epochs, warm-up 0.25": dict(epochs=8, pct=0.25),
        "10 epochs, warm-up 0.25": dict(epochs=10, pct=0.25),
        "5 epochs, warm-up 0.25, label smoothing 0.1": dict(epochs=5, pct=0.25, smoothing=0.1),
        "5 epochs, warm-up 0.25, class-balanced loss": dict(epochs=5, pct=0.25, balanced=True),
    }
    print(f"validation: {len(yv)} photos, {int(big.sum())} of the 3 breeds with 200 photos, "
          f"{int((~big).sum())} of the 34 breeds with 10; {a.seeds} seeds per schedule")
    means = {}
    for name, cfg in schedules.items():
        runs = [run(seed=s, **cfg) for s in range(a.seeds)]
        errs = [r[0] for r in runs]
        means[name] = round(statistics.mean(errs), 4)
        print(f"{name}: mean error {statistics.mean(errs):.3f} (min {min(errs):.3f}, max "
              f"{max(errs):.3f}); wrong per run: {statistics.mean(r[1] for r in runs):.1f} of "
              f"the big breeds, {statistics.mean(r[2] for r in runs):.1f} of the small ones")
    print(json.dumps(means))


if __name__ == "__main__":
    main()
