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


def classify(build, libs):
    """(blas, library) from torch's build flags and the paths of the BLAS-like libraries mapped
    into the process: "mkl", "openblas", "blis", "reference" (netlib's libblas.so) or
    "unknown"."""
    if "BLAS_INFO=mkl" in build:
        return "mkl", "BLAS_INFO=mkl (linked into torch)"
    for kind in ("openblas", "blis", "mkl"):
        for lib in libs:
            if kind in lib.lower():
                return kind, lib
    for lib in libs:
        if os.path.basename(lib).startswith("libblas.so"):
            return "reference", lib
    return "unknown", None


def blas_info():
    """{"blas": see classify, "library": path or build flag, "openblas_threads":
    OPENBLAS_NUM_THREADS or None}, read from torch's build flags (MKL is linked into pip
    wheels) and from the libraries mapped into this process."""
    torch.ones(2, 2) @ torch.ones(2, 2)  # make sure the BLAS library is loaded
    with open("/proc/self/maps") as f:
        libs = sorted({os.path.realpath(line.split()[-1]) for line in f
                       if "blas" in line.lower() or "mkl" in line.lower()})
    blas, library = classify(torch.__config__.show(), libs)
    return {"blas": blas, "library": library,
            "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS")}


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
    # Self-check of the classification on the library paths Debian installs.
    assert classify("", ["/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"])[0] == "reference"
    assert classify("", ["/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so"])[0] == "openblas"
    assert classify("", ["/usr/lib/x86_64-linux-gnu/blis-openmp/libblis.so.4"])[0] == "blis"
    assert classify("BLAS_INFO=mkl, LAPACK_INFO=mkl", [])[0] == "mkl"
    assert classify("", [])[0] == "unknown"
    print(json.dumps(blas_info()))
