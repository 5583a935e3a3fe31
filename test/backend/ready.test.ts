import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DoctorReport } from '../../src/cli/doctor.js';
import { skipUnlessTurboJpeg } from '../support/turbojpeg.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function doctor(env: Record<string, string>, cwd = ROOT, args: string[] = []): Run {
  const { TSFAST_BACKEND: _ignored, ...base } = process.env;
  const result = spawnSync(
    process.execPath,
    [...args, '--import', 'tsx', join(cwd, 'src/cli/bin.ts'), 'doctor', '--json'],
    { cwd, env: { ...base, ...env }, encoding: 'utf8', timeout: 120_000 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function report(run: Run): DoctorReport {
  assert.ok(
    run.stdout.trim().startsWith('{'),
    `doctor printed no JSON:\n${run.stdout}\n${run.stderr}`,
  );
  return JSON.parse(run.stdout) as DoctorReport;
}

describe('backend choice', () => {
  it('falls through the native engines to wasm with SIMD when they are absent', () => {
    const run = doctor({});
    assert.equal(run.status, 0, run.stderr);
    const r = report(run);
    assert.equal(r.choice?.backend, 'wasm');
    assert.equal(r.choice?.forced, false);
    assert.deepEqual(
      r.choice?.attempts.map((a) => [a.engine, a.ok]),
      [
        ['tfjs-node-gpu', false],
        ['tfjs-node', false],
        ['wasm', true],
      ],
    );
    assert.match(
      r.choice?.attempts[0]?.reason ?? '',
      /package not installed.*npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/,
    );
    assert.equal(r.wasm?.simd, true);
  });

  it('reports the JPEG decoder, and why TurboJPEG is not used when its library is missing', () => {
    const missing = report(doctor({ TSFAST_LIBTURBOJPEG: '/nonexistent/libturbojpeg.so' }));
    assert.equal(missing.jpeg.turbo, false);
    assert.match(missing.jpeg.library, /libturbojpeg was not found \(tried \/nonexistent/);
    const found = report(doctor({}));
    assert.equal(found.jpeg.turbo, skipUnlessTurboJpeg() === false, found.jpeg.library);
  });

  it('TSFAST_BACKEND=cpu forces cpu', () => {
    const r = report(doctor({ TSFAST_BACKEND: 'cpu' }));
    assert.equal(r.choice?.backend, 'cpu');
    assert.equal(r.choice?.forced, true);
    assert.deepEqual(
      r.choice?.attempts.map((a) => a.engine),
      ['cpu'],
    );
  });

  it('TSFAST_BACKEND=tensorflow fails, saying the package is missing and how to install it', () => {
    const run = doctor({ TSFAST_BACKEND: 'tensorflow' });
    assert.equal(run.status, 1);
    const r = report(run);
    assert.equal(r.choice, undefined);
    assert.match(r.error ?? '', /TSFAST_BACKEND=tensorflow was requested but cannot load/);
    assert.match(r.error ?? '', /npm install @tensorflow\/tfjs-node@4\.22\.0/);
  });

  it('an unknown TSFAST_BACKEND lists the valid values', () => {
    const r = report(doctor({ TSFAST_BACKEND: 'webgpu' }));
    assert.match(
      r.error ?? '',
      /TSFAST_BACKEND=webgpu is not a backend tsfast knows. Valid values: tensorflow, wasm, cpu/,
    );
  });
});

describe('backend choice with an installed engine', () => {
  // A project folder whose node_modules mirrors ours plus fake native engines: a broken
  // tfjs-node-gpu (no CUDA) and a tfjs-node that registers a `tensorflow` backend.
  const project = mkdtempSync(join(tmpdir(), 'tsfast-engine-'));
  after(() => rmSync(project, { recursive: true, force: true }));
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, '@tensorflow'), { recursive: true });
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (entry === '@tensorflow' || entry === '.bin') continue;
    symlinkSync(join(ROOT, 'node_modules', entry), join(modules, entry));
  }
  for (const entry of readdirSync(join(ROOT, 'node_modules', '@tensorflow'))) {
    symlinkSync(
      join(ROOT, 'node_modules', '@tensorflow', entry),
      join(modules, '@tensorflow', entry),
    );
  }
  cpSync(join(ROOT, 'src'), join(project, 'src'), { recursive: true });
  symlinkSync(join(ROOT, 'package.json'), join(project, 'package.json'));
  const fake = (name: string, body: string) => {
    const dir = join(modules, '@tensorflow', name);
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: `@tensorflow/${name}`, version: '4.22.0', main: 'index.js' }),
    );
    writeFileSync(join(dir, 'index.js'), body);
  };
  fake(
    'tfjs-node-gpu',
    "throw new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');\n",
  );
  fake(
    'tfjs-node',
    [
      "const tf = require('@tensorflow/tfjs');",
      "const { MathBackendCPU } = require('@tensorflow/tfjs-backend-cpu/dist/base');",
      "tf.registerBackend('tensorflow', () => new MathBackendCPU(), 3);",
    ].join('\n'),
  );

  it('uses tfjs-node when it loads and explains a GPU engine without CUDA', () => {
    const run = doctor({}, project, ['--preserve-symlinks']);
    assert.equal(run.status, 0, run.stderr);
    const r = report(run);
    assert.equal(r.choice?.backend, 'tensorflow');
    assert.equal(r.choice?.engine, 'tfjs-node');
    assert.match(
      r.choice?.attempts[0]?.reason ?? '',
      /CUDA 11\.2 not found \(libcudart\.so\.11\.0/,
    );
  });
});
