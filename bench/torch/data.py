"""PyTorch + torchvision reference for bench/data.ts: files on disk -> normalised augmented
224x224 batches (PIL decoding, RandomResizedCrop, horizontal flip, bilinear rotation,
ColorJitter, Normalize), DataLoader with 2 worker processes, one thread per process.

Usage: /usr/bin/python3 bench/torch/data.py IMAGE_DIR BS
Runs one warm-up epoch, prints "ready" and the BLAS torch runs on as JSON (exits with status 3
on the reference BLAS, see blas.py), then runs one timed epoch per line read from stdin and
prints one JSON line per epoch: {"images": n, "seconds": wall, "cpu_seconds": main + workers}.
"""
import glob
import json
import os
import sys
import time

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T

from blas import require_fast_blas

torch.set_num_threads(1)
TICKS = os.sysconf("SC_CLK_TCK")


class Files(Dataset):
    def __init__(self, files, tfm):
        self.files, self.tfm = files, tfm

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        with Image.open(self.files[i]) as im:
            return self.tfm(im.convert("RGB")), 0


def one_thread(_):
    torch.set_num_threads(1)


def cpu_seconds(pids):
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
    return total


def main():
    folder, bs = sys.argv[1], int(sys.argv[2])
    blas = require_fast_blas()
    files = sorted(glob.glob(os.path.join(folder, "*.jpg")))
    tfm = T.Compose([
        T.RandomResizedCrop(224),
        T.RandomHorizontalFlip(),
        # Bilinear as in tsfast (and fastai): torchvision's default is nearest-neighbour,
        # about 1.5 ms/img cheaper than the bilinear resampling tsfast does.
        T.RandomRotation(10, interpolation=T.InterpolationMode.BILINEAR),
        T.ColorJitter(brightness=0.2, contrast=0.2),
        T.ToTensor(),
        T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    torch.manual_seed(42)
    dl = DataLoader(Files(files, tfm), batch_size=bs, shuffle=True, drop_last=True,
                    num_workers=2, persistent_workers=True, worker_init_fn=one_thread)
    it = iter(dl)
    for _ in it:  # warm-up epoch: workers start, files enter the page cache
        pass
    pids = [os.getpid()] + [w.pid for w in it._workers]
    print("ready " + json.dumps(blas), flush=True)
    for _line in sys.stdin:
        n, c0, t0 = 0, cpu_seconds(pids), time.perf_counter()
        for xs, _ys in dl:
            assert xs.shape[1:] == (3, 224, 224)
            n += xs.shape[0]
        dt, cpu = time.perf_counter() - t0, cpu_seconds(pids) - c0
        print(json.dumps({"images": n, "seconds": dt, "cpu_seconds": cpu}), flush=True)


if __name__ == "__main__":
    main()
