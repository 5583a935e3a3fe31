import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { DataError } from '../core/errors.js';

/**
 * Reads a CSV file with a header row into one object per row (values as strings), the source
 * for `ColReader`/`ColSplitter` DataBlocks. Parsing is csv-parse's (quotes, embedded commas
 * and newlines handled).
 *
 * @param file - CSV file path.
 * @returns The rows.
 * @throws {@link DataError} naming the file if it cannot be read or parsed.
 * @example
 * ```ts
 * const rows = tsf.readCsv('planet/labels.csv');
 * const dls = await dblock.dataloaders(rows);
 * ```
 */
export function readCsv(file: string): Record<string, string>[] {
  try {
    return parse(readFileSync(file, 'utf8'), {
      columns: true,
      skip_empty_lines: true,
      trim: true,
    }) as Record<string, string>[];
  } catch (err) {
    throw new DataError(`readCsv: cannot read "${file}": ${(err as Error).message}`, {
      cause: err,
    });
  }
}
