"""PyTorch side of bench/support/grad-parity.ts: the same MobileNet v1 0.75 (Keras weights, TF
`same` padding, BatchNorm in training mode), global average pooling and dense layer, the same
photos and labels, and the per-weight gradients compared with tfjs's wasm and cpu ones.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch/grad_parity.py DUMP_DIR
Last line JSON: the worst relative L2 error of each backend against PyTorch and its weight.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from keras_mobilenet import MobileNetV1Body

torch.set_num_threads(1)


def main():
    folder = sys.argv[1]
    index = json.load(open(os.path.join(folder, "index.json")))
    raw = np.fromfile(os.path.join(folder, "data.bin"), np.float32)
    arrays = {"weight": {}, "grad_wasm": {}, "grad_cpu": {}}
    offset = 0
    for e in index["entries"]:
        n = int(np.prod(e["shape"]))
        a = raw[offset:offset + n].reshape(e["shape"])
        offset += n
        if e["kind"] in ("input", "labels"):
            arrays[e["kind"]] = a
        else:
            arrays[e["kind"]][e["name"]] = a
    x = torch.from_numpy(arrays["input"].copy()).permute(0, 3, 1, 2)
    y = torch.from_numpy(arrays["labels"].astype(np.int64))

    def run(dtype):
        body = MobileNetV1Body(0.75)
        body.load_keras(arrays["weight"])
        body.to(dtype).train(index.get("bn", "train") != "eval")
        fc_w = torch.tensor(arrays["weight"]["fc/kernel"].T.copy(), dtype=dtype, requires_grad=True)
        fc_b = torch.tensor(arrays["weight"]["fc/bias"].copy(), dtype=dtype, requires_grad=True)
        loss = F.cross_entropy(F.linear(body(x.to(dtype)).mean((2, 3)), fc_w, fc_b), y)
        loss.backward()
        grads = {"fc/kernel": fc_w.grad.numpy().T, "fc/bias": fc_b.grad.numpy()}
        for name in body.keras:
            g = body.keras_grad(name)
            if g is not None:
                grads[name] = g.numpy()
        return loss, grads

    # float64 shows how far float32 rounding alone moves the gradients of this network.
    loss, g32 = run(torch.float32)
    _, g64 = run(torch.float64)
    print(f"loss: torch {loss.item():.5f}, wasm {index['losses']['wasm']:.5f}, "
          f"cpu {index['losses']['cpu']:.5f}")
    print("| weight | rel. L2 wasm vs torch | rel. L2 cpu vs torch | rel. L2 wasm vs cpu | "
          "rel. L2 torch float32 vs float64 | rel. L2 wasm vs float64 |")
    print("| --- | --- | --- | --- | --- | --- |")
    worst = {"wasm": (0.0, ""), "cpu": (0.0, ""), "f32": (0.0, "")}
    rel = lambda a, b: float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))  # noqa: E731
    for name in arrays["grad_wasm"]:
        g = g32[name]
        gw, gc = arrays["grad_wasm"][name], arrays["grad_cpu"][name]
        rw, rc = rel(gw, g), rel(gc, g)
        worst["wasm"] = max(worst["wasm"], (rw, name))
        worst["cpu"] = max(worst["cpu"], (rc, name))
        worst["f32"] = max(worst["f32"], (rel(g, g64[name]), name))
        print(f"| {name} | {rw:.2e} | {rc:.2e} | {rel(gw, gc):.2e} | {rel(g, g64[name]):.2e} | "
              f"{rel(gw, g64[name]):.2e} |")
    print(json.dumps({"loss_torch": loss.item(), "worst_wasm_vs_torch": worst["wasm"][0],
                      "worst_wasm_weight": worst["wasm"][1], "worst_cpu_vs_torch": worst["cpu"][0],
                      "worst_cpu_weight": worst["cpu"][1],
                      "worst_torch_f32_vs_f64": worst["f32"][0]}))


if __name__ == "__main__":
    main()
