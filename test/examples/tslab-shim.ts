/**
 * Stand-in for the `tslab` module when notebooks run under plain Node (see notebook-runner.ts):
 * the `display` functions print a one-line record instead of sending output to Jupyter, and
 * reject what Jupyter could not show (e.g. bytes that are not a PNG).
 */

let current = 0;
process.on('uncaughtException', (err) => {
  console.error(`notebook cell ${current} failed: ${err.stack ?? err}`);
  process.exit(1);
});
process.on('unhandledRejection', (err) => {
  console.error(`notebook cell ${current} failed: ${(err as Error)?.stack ?? err}`);
  process.exit(1);
});

/** Marks the start of cell `n` (0 = all cells done). */
export function __cell(n: number): void {
  if (n === 0) console.log(`[notebook] ${current} cells ran`);
  else current = n;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];

export const display = {
  png(bytes: Uint8Array): void {
    if (!PNG_MAGIC.every((b, i) => bytes[i] === b)) {
      throw new Error(
        `display.png: cell ${current} passed ${bytes.length} bytes that are not a PNG`,
      );
    }
    console.log(`[display.png] cell ${current}: ${bytes.length} bytes`);
  },
  jpeg(bytes: Uint8Array): void {
    console.log(`[display.jpeg] cell ${current}: ${bytes.length} bytes`);
  },
  html(s: string): void {
    console.log(`[display.html] cell ${current}: ${s.length} chars`);
  },
  markdown(s: string): void {
    console.log(`[display.markdown] cell ${current}: ${s}`);
  },
  text(s: string): void {
    console.log(s);
  },
};
