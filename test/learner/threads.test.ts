import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { afterEach, describe, it } from 'node:test';
import { formatDoctorReport } from '../../src/cli/doctor.js';
import { ValueError } from '../../src/core/errors.js';
import { THREADS_ENV_VAR, trainingThreads } from '../../src/learner/data-parallel/threads.js';
import { blobsLearner } from './fixtures.js';

const saved = process.env[THREADS_ENV_VAR];

describe('training threads', () => {
  afterEach(() => {
    if (saved === undefined) delete process.env[THREADS_ENV_VAR];
    else process.env[THREADS_ENV_VAR] = saved;
  });

  it('defaults to the cores, TSFAST_THREADS overrides, the option overrides both', () => {
    delete process.env[THREADS_ENV_VAR];
    assert.deepEqual(trainingThreads(), { threads: availableParallelism(), source: 'cores' });
    process.env[THREADS_ENV_VAR] = '3';
    assert.deepEqual(trainingThreads(), { threads: 3, source: 'env' });
    assert.deepEqual(trainingThreads(1), { threads: 1, source: 'option' });
  });

  it('refuses a count that is not a positive integer, naming where it came from', () => {
    process.env[THREADS_ENV_VAR] = 'two';
    assert.throws(
      () => trainingThreads(),
      (e: Error) => e instanceof ValueError && /TSFAST_THREADS/.test(e.message),
    );
    assert.throws(() => trainingThreads(0), /`threads` must be a positive integer/);
    assert.throws(() => trainingThreads(1.5), /`threads` must be a positive integer/);
  });

  it('the Learner takes the option, and TSFAST_THREADS when it is absent', () => {
    process.env[THREADS_ENV_VAR] = '3';
    const a = blobsLearner(1);
    assert.equal(a.learn.threads, 3);
    assert.equal(a.learn.threadsAsked, true);
    const b = blobsLearner(1, { threads: 1 });
    assert.equal(b.learn.threads, 1);
    a.dls.dispose();
    b.dls.dispose();
  });

  it('tsfast doctor reports the thread count and whether steps are split', () => {
    const base = {
      node: 'v20',
      tfjs: { core: '4.22.0', layers: '4.22.0', wasm: '4.22.0' },
      choice: undefined,
      error: undefined,
      gpu: { cudaRuntime: false, cudnn: false, needs: 'CUDA 11.2 and cuDNN 8.1' },
      wasm: { simd: true, threads: false },
      sharp: { sharp: '0.34', vips: '8.17' },
      jpeg: { turbo: false, library: 'none' },
      machine: { cores: 2, totalMemGiB: 8, freeMemGiB: 4, platform: 'linux-x64' },
    };
    const text = formatDoctorReport({
      ...base,
      training: { threads: 2, source: 'cores', dataParallel: true },
    });
    assert.match(
      text,
      /training {8}2 threads \(cores; TSFAST_THREADS overrides\): data-parallel worker threads on wasm/,
    );
    const one = formatDoctorReport({
      ...base,
      training: { threads: 4, source: 'env', dataParallel: false },
    });
    assert.match(
      one,
      /4 threads \(TSFAST_THREADS\): one thread: data-parallel training runs on the wasm engine only/,
    );
  });
});
