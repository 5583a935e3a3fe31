"""PyTorch + torchvision reference for bench/data.ts: files on disk -> normalised augmented
224x224 batches (PIL decoding, RandomResizedCrop, horizontal flip, rotation, ColorJitter,
Normalize), DataLoader with 2 worker processes, one thread per process.

Usage: /usr/bin/python3 bench/torch/data.py IMAGE_DIR EPOCHS BS
Prints one JSON line: {"torch_img_s": ..., "images": ..., "seconds": ...}
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

torch.set_num_threads(1)


class Files(Dataset):
    def __init__(self, files, tfm):
        self.files, self.tfm = files, tfm

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        with Image.open(self.files[i]) as im:
            return self.tfm(im.convert("RGB")), 0


def main():
    folder, epochs, bs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    files = sorted(glob.glob(os.path.join(folder, "*.jpg")))
    tfm = T.Compose([
        T.RandomResizedCrop(224),
        T.RandomHorizontalFlip(),
        T.RandomRotation(10),
        T.ColorJitter(brightness=0.2, contrast=0.2),
        T.ToTensor(),
        T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    torch.manual_seed(42)
    dl = DataLoader(Files(files, tfm), batch_size=bs, shuffle=True, drop_last=True,
                    num_workers=2, persistent_workers=True,
                    worker_init_fn=lambda _: torch.set_num_threads(1))
    for _ in dl:  # warm-up epoch (workers start, file cache)
        pass
    n, t0 = 0, time.perf_counter()
    for _ in range(epochs):
        for xs, _ys in dl:
            assert xs.shape[1:] == (3, 224, 224)
            n += xs.shape[0]
    dt = time.perf_counter() - t0
    print(json.dumps({"torch_img_s": n / dt, "images": n, "seconds": dt}))


if __name__ == "__main__":
    main()
