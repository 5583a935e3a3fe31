/**
 * Sums a V8 CPU profile (`.cpuprofile`, as `bench/train-step-profile.ts --cpu-profile`
 * writes it) by self time: per package (wasm code, tfjs-core, tfjs-layers, the wasm
 * package's JavaScript, tsfast, garbage collection) and per function.
 *
 *   npx tsx bench/support/cpu-profile-summary.ts FILE [--top 40]
 *
 * V8 samples the main thread only; "(idle)" is time the thread waited.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which package a sampled frame belongs to. */
function category(name: string, url: string): string {
  if (name === '(garbage collector)') return 'garbage collector';
  if (name === '(idle)' || name === '(program)' || name === '(root)') return name;
  if (url === '' && /^(\$|wasm-function|js-to-wasm|wasm-to-js)/.test(name)) return 'wasm code';
  if (url.startsWith('wasm://') || url.includes('.wasm')) return 'wasm code';
  if (url.includes('tfjs-core')) return 'tfjs-core (JavaScript)';
  if (url.includes('tfjs-layers')) return 'tfjs-layers (JavaScript)';
  if (url.includes('tfjs-backend-wasm')) return 'tfjs-backend-wasm (JavaScript)';
  if (url.includes('/src/')) return 'tsfast (JavaScript)';
  if (url.includes('/bench/')) return 'bench (JavaScript)';
  if (url.startsWith('node:')) return 'node internals';
  return 'other';
}

function main(): void {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: cpu-profile-summary.ts FILE [--top N]');
  const at = process.argv.indexOf('--top');
  const top = at >= 0 ? Number(process.argv[at + 1]) : 40;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byCategory = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    const us = profile.timeDeltas[i] ?? 0;
    if (frame === undefined) return;
    total += us;
    const where = frame.url.replace(/.*node_modules\//, '').replace(/.*\/(src|bench)\//, '$1/');
    const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const c = category(frame.functionName, frame.url);
    byCategory.set(c, (byCategory.get(c) ?? 0) + us);
  });
  const ms = (us: number) => (us / 1e3).toFixed(1);
  const share = (us: number) => `${((100 * us) / total).toFixed(1)} %`;
  console.log(`${ms(total)} ms sampled\n\n| where | ms | share |\n| --- | --- | --- |`);
  for (const [c, us] of [...byCategory].sort((a, b) => b[1] - a[1])) {
    console.log(`| ${c} | ${ms(us)} | ${share(us)} |`);
  }
  console.log(`\ntop ${top} functions by self time:`);
  for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${ms(us).padStart(9)} ms  ${share(us).padStart(7)}  ${k}`);
  }
}

main();
