import { demoCommand } from './demo-command.js';
import { doctorCommand } from './doctor-command.js';
import { predictCommand } from './predict-command.js';

type Command = (args: readonly string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  demo: {
    run: demoCommand,
    help: 'transfer learning vs from scratch on generated images, no network [--out DIR] [--quick]',
  },
  doctor: {
    run: doctorCommand,
    help: 'report versions, the tfjs backend chosen and why others were skipped [--json]',
  },
  predict: {
    run: predictCommand,
    help: 'classify a folder of images with an exported learner into a CSV --learner DIR --images DIR [--out FILE]',
  },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.help}`);
  return ['Usage: tsfast <command> [options]', '', 'Commands:', ...rows].join('\n');
}

/**
 * Entry point of the `tsfast` command.
 * @param argv - The command line after the program name: a command and its arguments.
 * @returns The process exit code: the command's, 0 for help, 2 for an unknown command.
 * @example
 * ```ts
 * process.exitCode = await main(['doctor', '--json']); // the CLI passes process.argv.slice(2)
 * ```
 * @internal
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`tsfast: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}
