/**
 * CSVLogger: the Recorder's table, one row per epoch, in a CSV file.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { checkOptionKeys } from '../core/errors.js';
import type { Callback, EventContext } from '../learner/events.js';
import { formatTime } from './progress.js';

/**
 * Options of {@link CSVLogger}.
 * @example
 * ```ts
 * await learn.fit(3, 1e-3, { cbs: [new tsf.CSVLogger({ fname: 'history.csv', append: true })] });
 * ```
 */
export interface CSVLoggerOptions {
  /**
   * File, relative to `learn.path`.
   * @defaultValue 'history.csv'
   */
  fname?: string;
  /**
   * Append to an existing file instead of overwriting it.
   * @defaultValue false
   */
  append?: boolean;
}

/**
 * Writes `epoch,train_loss,valid_loss,<metrics>,time` to a CSV file (fastai's `CSVLogger`).
 * The file is replaced atomically after each epoch, so it always holds whole rows.
 * @example
 * ```ts
 * await learn.fit(3, 1e-3, { cbs: [new tsf.CSVLogger({ fname: 'history.csv' })] });
 * ```
 */
export class CSVLogger implements Callback {
  /** Name. */
  readonly name = 'csvLogger';
  /** After the Recorder. */
  readonly order = 60;
  /** File name. */
  readonly fname: string;
  /** Append mode. */
  readonly append: boolean;
  /** The file being written (after `beforeFit`). */
  file = '';
  // The whole file, rewritten atomically each epoch: a crash never leaves a half row.
  private text = '';

  /** @param options - See {@link CSVLoggerOptions}. */
  constructor(options: CSVLoggerOptions = {}) {
    checkOptionKeys('CSVLogger', options, ['fname', 'append']);
    this.fname = options.fname ?? 'history.csv';
    this.append = options.append ?? false;
  }

  /** Writes the header. */
  async beforeFit({ learn }: EventContext): Promise<void> {
    this.file = resolve(learn.path, this.fname);
    const old = this.append ? await readIfExists(this.file) : '';
    this.text = `${old}${learn.recorder.metricNames.join(',')}\n`;
    await writeFileAtomic(this.file, this.text);
  }

  /** Writes the epoch's row. */
  async afterEpoch({ learn, epoch }: EventContext): Promise<void> {
    const row = learn.recorder.values.at(-1) ?? [];
    const time = formatTime(learn.recorder.times.at(-1) ?? 0);
    this.text += `${[epoch, ...row, time].join(',')}\n`;
    await writeFileAtomic(this.file, this.text);
  }
}

async function readIfExists(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}
