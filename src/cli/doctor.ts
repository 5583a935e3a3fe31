import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { type BackendChoice, NODE_GPU_REQUIREMENTS, ready } from '../backend/index.js';
import { THREADS_ENV_VAR, trainingThreads } from '../learner/index.js';
import { turboJpegStatus } from '../vision/image/index.js';

/** Everything `tsfast doctor` found about this machine. */
export interface DoctorReport {
  /** Node.js version, e.g. `v20.20.2`. */
  node: string;
  /** Versions of the tfjs packages in use. */
  tfjs: {
    /** `@tensorflow/tfjs-core` version. */
    core: string;
    /** `@tensorflow/tfjs-layers` version. */
    layers: string;
    /** `@tensorflow/tfjs-backend-wasm` version, `undefined` when absent. */
    wasm: string | undefined;
  };
  /** The backend chosen, or `undefined` when none could be (see `error`). */
  choice: BackendChoice | undefined;
  /** Why no backend could be chosen (for example a forced one that cannot load). */
  error: string | undefined;
  /** Whether the CUDA and cuDNN libraries tfjs-node-gpu 4.22 needs are on the loader path. */
  gpu: {
    /** Whether `libcudart.so.11` is on the loader path. */
    cudaRuntime: boolean;
    /** Whether `libcudnn.so.8` is on the loader path. */
    cudnn: boolean;
    /** The versions tfjs-node-gpu 4.22 needs, as text. */
    needs: string;
  };
  /** WebAssembly features of this Node.js (`undefined` when the wasm package is absent). */
  wasm:
    | {
        /** Whether WebAssembly SIMD is available. */
        simd: boolean;
        /** Whether multithreaded WebAssembly is available. */
        threads: boolean;
      }
    | undefined;
  /** sharp and libvips versions. */
  sharp: {
    /** sharp version. */
    sharp: string;
    /** libvips version. */
    vips: string;
  };
  /** Whether JPEGs decode through TurboJPEG (see `DecodeOptions.decoder`). */
  jpeg: {
    /** True when the TurboJPEG fast path is in use. */
    turbo: boolean;
    /** The library loaded, or why none was. */
    library: string;
  };
  /** Threads a training step uses (the Learner's default), or why the setting is invalid. */
  training: {
    /** Threads, main thread included. */
    threads: number;
    /** `env` (`TSFAST_THREADS`) or `cores`. */
    source: 'option' | 'env' | 'cores';
    /** Whether steps are split over threads here (data-parallel runs on the wasm engine only). */
    dataParallel: boolean;
    /** Why `TSFAST_THREADS` was refused, if it was (then `threads` is 1). */
    error?: string;
  };
  /** Logical cores and memory in GiB. */
  machine: {
    /** Logical cores available to this process. */
    cores: number;
    /** Total memory in GiB. */
    totalMemGiB: number;
    /** Free memory in GiB. */
    freeMemGiB: number;
    /** `platform-arch`, e.g. `linux-x64`. */
    platform: string;
  };
}

/**
 * Collects the facts `tsfast doctor` prints: versions, the backend chosen and why others were
 * skipped, CUDA/cuDNN presence, wasm features, sharp/libvips and the machine.
 *
 * @returns The report; it never throws for a backend failure, which lands in `error`.
 * @example
 * ```ts
 * const report = await tsf.doctorReport();
 * console.log(tsf.formatDoctorReport(report));
 * ```
 */
export async function doctorReport(): Promise<DoctorReport> {
  let choice: BackendChoice | undefined;
  let error: string | undefined;
  try {
    choice = await ready();
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const require = createRequire(import.meta.url);
  return {
    node: process.version,
    tfjs: {
      core: tf.version_core,
      layers: tf.version_layers,
      wasm: packageVersion(require, '@tensorflow/tfjs-backend-wasm'),
    },
    choice,
    error,
    gpu: {
      cudaRuntime: hasSharedLibrary(`libcudart.so.${NODE_GPU_REQUIREMENTS.cuda.split('.')[0]}`),
      cudnn: hasSharedLibrary(`libcudnn.so.${NODE_GPU_REQUIREMENTS.cudnn.split('.')[0]}`),
      needs: `CUDA ${NODE_GPU_REQUIREMENTS.cuda} and cuDNN ${NODE_GPU_REQUIREMENTS.cudnn}`,
    },
    wasm: await wasmFeatures(),
    training: trainingReport(choice),
    sharp: { sharp: sharp.versions.sharp ?? 'unknown', vips: sharp.versions.vips },
    jpeg: (({ available, library }) => ({ turbo: available, library }))(turboJpegStatus()),
    machine: {
      cores: os.availableParallelism(),
      totalMemGiB: round1(os.totalmem() / 2 ** 30),
      freeMemGiB: round1(os.freemem() / 2 ** 30),
      platform: `${process.platform}-${process.arch}`,
    },
  };
}

/**
 * Formats a {@link DoctorReport} as the text `tsfast doctor` prints.
 *
 * @param report - The report from {@link doctorReport}.
 * @returns Multi-line text.
 * @example
 * ```ts
 * console.log(tsf.formatDoctorReport(await tsf.doctorReport()));
 * ```
 */
export function formatDoctorReport(report: DoctorReport): string {
  const lines = [
    'tsfast doctor',
    `  node            ${report.node} (${report.machine.platform})`,
    `  tfjs            core ${report.tfjs.core}, layers ${report.tfjs.layers}, wasm ${report.tfjs.wasm ?? 'not installed'}`,
  ];
  if (report.choice) {
    const { choice } = report;
    lines.push(
      `  backend         ${choice.backend} (engine ${choice.engine}${choice.forced ? ', forced by TSFAST_BACKEND' : ''})`,
    );
  } else {
    lines.push('  backend         none');
  }
  lines.push('  engines tried:');
  for (const attempt of report.choice?.attempts ?? []) {
    lines.push(
      `    ${attempt.ok ? 'chosen ' : 'skipped'} ${attempt.engine.padEnd(14)} ${attempt.reason}`,
    );
  }
  if (report.error) lines.push(...report.error.split('\n').map((l) => `    ${l}`));
  const { gpu } = report;
  lines.push(
    `  CUDA/cuDNN      tfjs-node-gpu 4.22 needs ${gpu.needs}: CUDA runtime ${gpu.cudaRuntime ? 'found' : 'not found'}, cuDNN ${gpu.cudnn ? 'found' : 'not found'}`,
    report.wasm
      ? `  wasm            SIMD ${report.wasm.simd ? 'yes' : 'no'}, threads ${report.wasm.threads ? 'yes' : 'no'}`
      : '  wasm            package not installed',
    `  sharp           ${report.sharp.sharp} (libvips ${report.sharp.vips})`,
    report.jpeg.turbo
      ? `  JPEG decoding   TurboJPEG (${report.jpeg.library})`
      : `  JPEG decoding   sharp (${report.jpeg.library}; install libturbojpeg for ~4x cheaper JPEG decoding)`,
    trainingLine(report.training),
    `  machine         ${report.machine.cores} cores, ${report.machine.totalMemGiB} GiB memory (${report.machine.freeMemGiB} GiB free)`,
  );
  return lines.join('\n');
}

function trainingReport(choice: BackendChoice | undefined): DoctorReport['training'] {
  try {
    const { threads, source } = trainingThreads();
    return { threads, source, dataParallel: threads > 1 && choice?.backend === 'wasm' };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { threads: 1, source: 'env', dataParallel: false, error };
  }
}

function trainingLine(t: DoctorReport['training']): string {
  if (t.error) return `  training        ${t.error}`;
  const from = t.source === 'env' ? `${THREADS_ENV_VAR}` : `cores; ${THREADS_ENV_VAR} overrides`;
  const how = t.dataParallel
    ? 'data-parallel worker threads on wasm'
    : t.threads > 1
      ? 'one thread: data-parallel training runs on the wasm engine only'
      : 'one thread';
  return `  training        ${t.threads} thread${t.threads === 1 ? '' : 's'} (${from}): ${how}`;
}

async function wasmFeatures(): Promise<DoctorReport['wasm']> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
  } catch {
    return undefined;
  }
  return {
    simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
    threads: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
  };
}

function packageVersion(require: NodeJS.Require, pkg: string): string | undefined {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function hasSharedLibrary(soname: string): boolean {
  for (const dir of (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)) {
    if (existsSync(`${dir}/${soname}`)) return true;
  }
  try {
    const cache = execFileSync('ldconfig', ['-p'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return cache.includes(soname);
  } catch {
    return false;
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
