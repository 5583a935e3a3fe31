import { parseArgs } from 'node:util';
import { runDemo } from '../demo/run-demo.js';

const USAGE = `Usage: tsfast demo [--out DIR] [--seed N] [--quick] [--json]

Pretrains a small CNN on drawn shapes, transfers it to new shapes with 10 images per class,
and compares with the same network trained from scratch. No network, no data files.
  --out DIR   where images and plots go (default: tsfast-demo)
  --seed N    seed of everything (default: 42)
  --quick     smaller data, fewer epochs (seconds, for a smoke test)
  --json      end with one JSON line of the results`;

/**
 * `tsfast demo`: transfer learning vs training from scratch on generated images.
 * @param args - The arguments after `demo` (`--out DIR`, `--seed N`, `--quick`, `--json`).
 * @returns The process exit code: 0 on success, 2 on bad arguments.
 * @example
 * ```ts no-run (trains for several seconds)
 * process.exitCode = await demoCommand(['--quick', '--out', 'tmp-demo']);
 * ```
 * @internal
 */
export async function demoCommand(args: readonly string[]): Promise<number> {
  let values: { out?: string; seed?: string; quick?: boolean; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        out: { type: 'string' },
        seed: { type: 'string' },
        quick: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`tsfast demo: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const seed = values.seed === undefined ? 42 : Number(values.seed);
  if (!Number.isInteger(seed)) {
    console.error(`tsfast demo: --seed must be an integer. Received: ${values.seed}\n\n${USAGE}`);
    return 2;
  }
  const result = await runDemo({
    out: values.out ?? 'tsfast-demo',
    seed,
    quick: values.quick ?? false,
  });
  if (values.json) console.log(JSON.stringify(result));
  return 0;
}
