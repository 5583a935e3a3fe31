import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { checkOptionKeys, DataError } from '../core/errors.js';

/**
 * Options of {@link readCsv}.
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * writeFileSync('labels.tsv', 'fname\tlabel\ncat.jpg\tcat\n');
 * const rows = tsf.readCsv('labels.tsv', { delimiter: '\t' }); // [{ fname: 'cat.jpg', label: 'cat' }]
 * ```
 */
export interface ReadCsvOptions {
  /**
   * Field delimiter.
   * @defaultValue `','`
   */
  delimiter?: string;
}

/**
 * Reads a CSV file with a header row into one object per row (values as strings), the source
 * for `ColReader`/`ColSplitter` DataBlocks. Parsing is csv-parse's (quotes, embedded commas
 * and newlines handled).
 *
 * @param file - CSV file path.
 * @param options - `delimiter`.
 * @returns The rows.
 * @throws {@link DataError} naming the file if it cannot be read or parsed.
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * writeFileSync('labels.csv', 'fname,labels\ncat.jpg,"cat pet"\n');
 * const rows = tsf.readCsv('labels.csv'); // [{ fname: 'cat.jpg', labels: 'cat pet' }]
 * ```
 */
export function readCsv(file: string, options: ReadCsvOptions = {}): Record<string, string>[] {
  checkOptionKeys('readCsv', options, ['delimiter']);
  try {
    return parse(readFileSync(file, 'utf8'), {
      columns: true,
      skip_empty_lines: true,
      trim: true,
      delimiter: options.delimiter ?? ',',
    }) as Record<string, string>[];
  } catch (err) {
    throw new DataError(`readCsv: cannot read "${file}": ${(err as Error).message}`, {
      cause: err,
    });
  }
}
