/**
 * Ctrl-C during `fit`: the first SIGINT asks the loop to stop at the end of the current batch
 * (as a `CancelFit`: `afterCancelFit` and `afterFit` run, so SaveModel keeps or reloads its
 * checkpoint), then the process exits with status 130, as a shell reports a process ended by
 * Ctrl-C; a second SIGINT exits at once. The handler exists only while a fit runs.
 *
 * When the program has SIGINT listeners of its own (a notebook kernel, a server), tsfast still
 * stops the fit at the end of the batch but leaves the process to them: `fit` returns and
 * nothing exits.
 */

/** Exit status of a process ended by SIGINT (128 + 2). */
export const SIGINT_EXIT_CODE = 130;

/**
 * The SIGINT handling of running fits (nested fits share it: the LR finder's fit inside a
 * user's script).
 * @example
 * ```ts
 * const guard = FitInterrupt.enter((line) => console.log(line));
 * try {
 *   // ... after each batch:
 *   if (guard.requested) throw new tsf.CancelFit('interrupted');
 * } finally {
 *   guard.leave();
 * }
 * guard.exitIfInterrupted();
 * ```
 */
export class FitInterrupt {
  private static depth = 0;
  private static handler: (() => void) | undefined;
  private static ownsProcess = false;
  private static signals = 0;
  private static log: (line: string) => void = () => {};

  private constructor() {}

  /**
   * Starts watching SIGINT for a fit (or joins the enclosing fit's watch).
   * @param logger - Where to say that training stops.
   * @returns The guard of this fit.
   */
  static enter(logger: (line: string) => void): FitInterrupt {
    if (FitInterrupt.depth++ === 0) {
      FitInterrupt.signals = 0;
      FitInterrupt.log = logger;
      FitInterrupt.ownsProcess = process.listenerCount('SIGINT') === 0;
      FitInterrupt.handler = () => FitInterrupt.onSignal();
      process.on('SIGINT', FitInterrupt.handler);
    }
    return new FitInterrupt();
  }

  private static onSignal(): void {
    FitInterrupt.signals++;
    if (FitInterrupt.signals === 1) {
      FitInterrupt.log(
        'Interrupted (Ctrl-C): training stops at the end of this batch. Press Ctrl-C again to exit now.',
      );
    } else if (FitInterrupt.ownsProcess) {
      process.exit(SIGINT_EXIT_CODE);
    }
  }

  /** Whether Ctrl-C was pressed since the outermost fit started. */
  get requested(): boolean {
    return FitInterrupt.signals > 0;
  }

  /** Ends this fit's watch; the outermost fit removes the handler. */
  leave(): void {
    if (--FitInterrupt.depth > 0) return;
    if (FitInterrupt.handler !== undefined) process.off('SIGINT', FitInterrupt.handler);
    FitInterrupt.handler = undefined;
  }

  /**
   * After the outermost fit ended: exits with status 130 if it was interrupted and tsfast
   * owned SIGINT (no other listener).
   */
  exitIfInterrupted(): void {
    if (FitInterrupt.depth === 0 && FitInterrupt.signals > 0 && FitInterrupt.ownsProcess) {
      process.exit(SIGINT_EXIT_CODE);
    }
  }
}
