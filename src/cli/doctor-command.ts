import { doctorReport, formatDoctorReport } from '../backend/doctor.js';

/**
 * `tsfast doctor [--json]`: prints what tsfast found on this machine.
 * @returns The process exit code: 0 when a backend loaded, 1 otherwise.
 * @internal
 */
export async function doctorCommand(args: readonly string[]): Promise<number> {
  const report = await doctorReport();
  console.log(
    args.includes('--json') ? JSON.stringify(report, null, 2) : formatDoctorReport(report),
  );
  return report.choice ? 0 : 1;
}
