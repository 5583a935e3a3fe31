import { doctorReport, formatDoctorReport } from './doctor.js';

/**
 * `tsfast doctor [--json]`: prints what tsfast found on this machine.
 * @param args - The arguments after `doctor` (`--json` prints the report as JSON).
 * @returns The process exit code: 0 when a backend loaded, 1 otherwise.
 * @example
 * ```ts
 * process.exitCode = await doctorCommand(['--json']);
 * ```
 * @internal
 */
export async function doctorCommand(args: readonly string[]): Promise<number> {
  const report = await doctorReport();
  console.log(
    args.includes('--json') ? JSON.stringify(report, null, 2) : formatDoctorReport(report),
  );
  return report.choice ? 0 : 1;
}
