"""Loads a tsf.exportSafetensors file into examples/pytorch/tsfast_models.py's model (strict)
and prints the max |PyTorch logits - tsfast logits| on the same normalised input as JSON.
Usage: torch_roundtrip.py ARCH N_OUT WEIGHTS.safetensors IO.safetensors"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "pytorch"))
import torch  # noqa: E402

import tsfast_models  # noqa: E402

arch, n_out, weights, io = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
torch.set_num_threads(1)
model = tsfast_models.create_model(arch, n_out)
tsfast_models.load_safetensors(model, weights, arch)
model.eval()
tensors = tsfast_models.read_safetensors(io)
x = tensors["input"].permute(0, 3, 1, 2).contiguous()  # NHWC from tsfast -> NCHW
with torch.no_grad():
    y = model(x)
want = tensors["logits"]
print(json.dumps({
    "arch": arch,
    "shape": list(y.shape),
    "max_logit_diff": float((y - want).abs().max()),
    "logit_range": float(want.abs().max()),
}))
