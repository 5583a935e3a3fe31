"""PyTorch 1.13 reference of examples/pets.ts: fastai's `fine_tune` recipe written out in plain
PyTorch (fastai itself is not installed here), on the same weights (Keras MobileNet v1 0.75 from
the tfjs folder, see keras_mobilenet.py), the same split and labels (the JSON that
`examples/pets.ts --split-out FILE` writes) and the same head and optimizer:

- fastai's `create_head`: concat pooling (max, avg), BatchNorm1d-Dropout(0.25)-Linear(512, no
  bias)-ReLU-BatchNorm1d-Dropout(0.5)-Linear(classes, no bias), kaiming normal, BN bias 1e-3;
- parameter groups as tsfast's MobileNet split: conv1 + blocks 1-5, blocks 6-13, head;
- fastai's Adam (mom 0.9, sqr_mom 0.99, eps 1e-5, decoupled weight decay 0.01, none on
  BatchNorm and biases) with one-cycle schedules (cosine lr from lr/div to lr over pct_start,
  then to lr/1e5; momentum 0.95 -> 0.85 -> 0.95);
- `fine_tune(epochs, base_lr)`: freeze, one cycle of `freeze_epochs` at `base_lr` (pct_start
  0.99, or `--freeze-pct-start` as tsfast's `freezePctStart`), then unfreeze and one cycle of `epochs` at slice(base_lr / 2 / 100, base_lr / 2)
  (pct_start 0.3, div 5);
- `--bn train` (fastai's default `train_bn=True`), `freeze` (`train_bn=False` + `BnFreeze`),
  `body` (the body's BatchNorm in eval mode throughout, as tsfast's `BnFreeze({ body: true })`).
Augmentation approximates fastai's `Resize(460)` + `aug_transforms(size, min_scale=0.75)` with
torchvision (random 460 crop, RandomResizedCrop, flip, rotation/zoom, perspective warp,
brightness/contrast); validation is a centre crop resized to `size`.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch/fine_tune.py --split SPLIT.json
  --weights ../shared/models/mobilenet_v1_0.75_224 [--size 224] [--epochs 4] [--freeze-epochs 1]
  [--lr 2e-3] [--bs 16] [--bn body] [--seed 42] [--threads 1]
One line per epoch, then one JSON line: {"error_rate", "valid_loss", "epochs_error", "minutes", ...}.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T

from blas import require_fast_blas
from keras_mobilenet import MobileNetV1Body, read_tfjs_weights


class Files(Dataset):
    def __init__(self, items, labels, tfm):
        self.items, self.labels, self.tfm = items, labels, tfm

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        with Image.open(self.items[i]) as im:
            return self.tfm(im.convert("RGB")), self.labels[i]


class ConcatPool(nn.Module):
    def forward(self, x):
        return torch.cat([F.adaptive_max_pool2d(x, 1), F.adaptive_avg_pool2d(x, 1)], 1).flatten(1)


def create_head(nf, n_out):
    layers = [ConcatPool(), nn.BatchNorm1d(2 * nf), nn.Dropout(0.25), nn.Linear(2 * nf, 512, bias=False),
              nn.ReLU(inplace=True), nn.BatchNorm1d(512), nn.Dropout(0.5), nn.Linear(512, n_out, bias=False)]
    for m in layers:
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight)
        if isinstance(m, nn.BatchNorm1d):
            nn.init.ones_(m.weight)
            nn.init.constant_(m.bias, 1e-3)
    return nn.Sequential(*layers)


def cos_anneal(start, end, pos):
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def one_cycle(pct, pct_start, lr, div, div_final=1e5):
    """fastai's combined_cos for lr and momentum at position pct in [0, 1)."""
    if pct < pct_start:
        p = pct / pct_start
        return cos_anneal(lr / div, lr, p), cos_anneal(0.95, 0.85, p)
    p = (pct - pct_start) / (1 - pct_start)
    return cos_anneal(lr, lr / div_final, p), cos_anneal(0.85, 0.95, p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--resize", type=int, default=460)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--freeze-epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--bs", type=int, default=16)
    ap.add_argument("--bn", choices=["train", "freeze", "body"], default="body")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--unfrozen-lr", type=float, default=None,
                    help="peak rate of the unfrozen cycle (slice(x / 100, x)); default lr / 2")
    ap.add_argument("--freeze-pct-start", type=float, default=0.99,
                    help="warm-up fraction of the frozen cycle (fastai's fine_tune: 0.99)")
    a = ap.parse_args()
    blas = require_fast_blas()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    run_start = time.perf_counter()

    split = json.load(open(a.split))
    vocab = split["vocab"]

    def label(path):
        if "/train/" in path or "/val/" in path or "/valid/" in path:
            return vocab.index(path.split("/")[-2])
        name = path.split("/")[-1]
        return vocab.index(name[:name.rindex("_")])

    norm = T.Normalize([0.5] * 3, [0.5] * 3)
    train_tfm = T.Compose([
        T.Resize(a.resize), T.RandomCrop(a.resize),
        T.RandomResizedCrop(a.size, scale=(0.75, 1.0)),
        T.RandomHorizontalFlip(),
        T.RandomApply([T.RandomAffine(degrees=10, scale=(1.0, 1.1),
                                      interpolation=T.InterpolationMode.BILINEAR)], p=0.75),
        T.RandomPerspective(0.2, p=0.75),
        T.RandomApply([T.ColorJitter(brightness=0.2, contrast=0.2)], p=0.75),
        T.ToTensor(), norm])
    valid_tfm = T.Compose([T.Resize(a.size), T.CenterCrop(a.size), T.ToTensor(), norm])
    train_ds = Files(split["train"], [label(p) for p in split["train"]], train_tfm)
    valid_ds = Files(split["valid"], [label(p) for p in split["valid"]], valid_tfm)
    train_dl = DataLoader(train_ds, a.bs, shuffle=True, drop_last=True)
    valid_dl = DataLoader(valid_ds, 64)

    body = MobileNetV1Body(0.75, bn_momentum=0.1)
    body.load_keras(read_tfjs_weights(a.weights))
    head = create_head(body.out_channels, len(vocab))
    model = nn.Sequential(body, head)
    feats = list(body.features)
    groups = [nn.ModuleList(feats[:33]), nn.ModuleList(feats[33:]), head]
    body_bns = [m for m in body.modules() if isinstance(m, nn.BatchNorm2d)]

    def param_groups(lrs, wd=0.01):
        out = []
        for g, lr in zip(groups, lrs):
            bn_bias = [p for m in g.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))
                       for p in m.parameters(recurse=False)]
            ids = {id(p) for p in bn_bias}
            rest = [p for p in g.parameters() if id(p) not in ids]
            out += [{"params": rest, "weight_decay": wd, "lr": lr, "base": lr},
                    {"params": bn_bias, "weight_decay": 0.0, "lr": lr, "base": lr}]
        return out

    def evaluate():
        model.eval()
        loss, wrong, n = 0.0, 0, 0
        with torch.no_grad():
            for x, y in valid_dl:
                out = model(x)
                loss += F.cross_entropy(out, y, reduction="sum").item()
                wrong += (out.argmax(1) != y).sum().item()
                n += len(y)
        return loss / n, wrong / n

    errors = []

    def fit_one_cycle(epochs, lrs, pct_start, div, frozen):
        for i, g in enumerate(groups):
            trainable = not (frozen and i < len(groups) - 1)
            for m in g.modules():
                is_bn = isinstance(m, nn.BatchNorm2d)
                for p in m.parameters(recurse=False):
                    p.requires_grad_(trainable or (is_bn and a.bn == "train"))
        opt = torch.optim.AdamW([g for g in param_groups(lrs) if g["params"]], betas=(0.9, 0.99),
                                eps=1e-5)
        total = epochs * len(train_dl)
        it = 0
        for epoch in range(epochs):
            t0 = time.perf_counter()
            model.train()
            if a.bn == "body" or (a.bn == "freeze" and frozen):
                for m in body_bns:
                    m.eval()
            train_loss = 0.0
            for x, y in train_dl:
                for g in opt.param_groups:
                    lr, mom = one_cycle(it / total, pct_start, g["base"], div)
                    g["lr"], g["betas"] = lr, (mom, 0.99)
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                train_loss += loss.item()
                it += 1
            valid_loss, err = evaluate()
            errors.append(err)
            print(f"{'frozen' if frozen else 'unfrozen'} epoch {epoch}: train_loss "
                  f"{train_loss / len(train_dl):.4f} valid_loss {valid_loss:.4f} error_rate "
                  f"{err:.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
        return valid_loss, err

    lr = a.lr
    fit_one_cycle(a.freeze_epochs, [lr / 10, lr / 10, lr], a.freeze_pct_start, 25, True)
    lr = a.unfrozen_lr if a.unfrozen_lr is not None else lr / 2
    lo = lr / 100
    lrs = [lo * (lr / lo) ** (i / 2) for i in range(3)]
    valid_loss, err = fit_one_cycle(a.epochs, lrs, 0.3, 5, False)
    print(json.dumps({"error_rate": err, "valid_loss": valid_loss, "epochs_error": errors,
                      "minutes": (time.perf_counter() - run_start) / 60, "bs": a.bs, "bn": a.bn,
                      "size": a.size, "epochs": a.epochs, "freeze_epochs": a.freeze_epochs,
                      "n_train": len(train_ds), "n_valid": len(valid_ds), "threads": a.threads,
                      "torch": torch.__version__, "blas": blas["blas"],
                      "lr": a.lr, "unfrozen_lr": lr,
                      "freeze_pct_start": a.freeze_pct_start}))


if __name__ == "__main__":
    main()
