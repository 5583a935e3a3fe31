/**
 * How the benchmarks run PyTorch: one thread everywhere (torch, OpenMP, OpenBLAS, MKL), and only
 * on an optimised BLAS. The Python side (`bench/torch/blas.py`) names the BLAS torch has mapped
 * and exits when it is the reference one; {@link checkTorchBlas} repeats the check on what the
 * script reports and gives the line each benchmark prints.
 */

/** What `bench/torch/blas.py`'s `blas_info()` reports. */
export interface TorchBlas {
  /** `mkl`, `openblas`, `blis`, `reference` or `unknown`. */
  blas: string;
  /** The library file (or build flag) it was read from. */
  library: string | null;
  /** `OPENBLAS_NUM_THREADS` as the torch process saw it. */
  openblas_threads: string | null;
}

/** The environment of every PyTorch reference process: a single thread for every pool. */
export function torchEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    OMP_NUM_THREADS: '1',
    MKL_NUM_THREADS: '1',
    OPENBLAS_NUM_THREADS: '1',
    ...extra,
  };
}

/**
 * Refuses a comparison against the reference BLAS (Debian's `libblas3`, ~6x slower than
 * OpenBLAS or MKL on MobileNet) or a BLAS the script could not name.
 * @returns The line to print, e.g. "PyTorch BLAS: openblas (/usr/lib/.../libblas.so.3, 1 thread)".
 * @throws Error when `info` is missing, the reference BLAS, or unknown.
 */
export function checkTorchBlas(info: TorchBlas | undefined): string {
  if (info === undefined) throw new Error('the PyTorch script did not report its BLAS');
  if (info.blas === 'reference' || info.blas === 'unknown') {
    throw new Error(
      `PyTorch runs on the ${info.blas} BLAS (${info.library}); refusing to compare. ` +
        'Install libopenblas0-pthread (as .ci/run does).',
    );
  }
  const threads = info.openblas_threads ?? 'unset';
  return `PyTorch BLAS: ${info.blas} (${info.library}, OPENBLAS_NUM_THREADS=${threads})`;
}
