"""Which BLAS this PyTorch process runs on, and a refusal to benchmark against the reference one.

Debian's python3-torch links libblas.so.3, which is netlib's reference BLAS (libblas3) unless an
optimised one (libopenblas0-pthread, BLIS, MKL) is installed as its alternative; against the
reference BLAS, MobileNet v1 0.75 at 224 px trains ~6x slower (2.8 instead of 16.1 img/s), while
users' PyTorch (pip wheels) ships MKL/oneDNN. Every benchmark that times PyTorch imports this
module, records `blas_info()` in its output and calls `require_fast_blas()` first.

Set OPENBLAS_NUM_THREADS=1 (as the bench/*.ts scripts do) so OpenBLAS matches the single
thread the benchmarks give torch.
"""
import os
import sys

import torch


def blas_info():
    """{"blas": "mkl" | "openblas" | "blis" | "reference" | "unknown", "library": path or build
    flag, "openblas_threads": OPENBLAS_NUM_THREADS or None}. Read from torch's build flags (MKL is
    linked statically into pip wheels) and from the libraries mapped into this process."""
    build = torch.__config__.show()
    info = {"blas": "unknown", "library": None,
            "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS")}
    if "BLAS_INFO=mkl" in build:
        info.update(blas="mkl", library="BLAS_INFO=mkl (linked into torch)")
        return info
    torch.ones(2, 2) @ torch.ones(2, 2)  # make sure the BLAS library is loaded
    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f
                       if "blas" in line.lower() or "mkl" in line.lower()})
    for lib in libs:
        name = lib.lower()
        if "openblas" in name:
            info.update(blas="openblas", library=os.path.realpath(lib))
            return info
        if "blis" in name:
            info.update(blas="blis", library=os.path.realpath(lib))
            return info
        if "mkl" in name:
            info.update(blas="mkl", library=os.path.realpath(lib))
            return info
    for lib in libs:
        if os.path.basename(lib).startswith("libblas.so"):
            info.update(blas="reference", library=os.path.realpath(lib))
    return info


def require_fast_blas():
    """Returns blas_info(), after exiting with status 3 and a message naming the library when
    torch runs on the reference BLAS (or one this check cannot name)."""
    info = blas_info()
    if info["blas"] in ("reference", "unknown"):
        sys.stderr.write(
            f"PyTorch runs on the {info['blas']} BLAS ({info['library']}): comparing against it "
            "would flatter tsfast ~6x. Install an optimised BLAS (apt-get install "
            "libopenblas0-pthread, as .ci/run does) and run again.\n")
        sys.exit(3)
    return info


if __name__ == "__main__":
    import json
    print(json.dumps(blas_info()))
