/**
 * The learner's callbacks, kept in run order.
 */
import { ValueError } from '../core/errors.js';
import type { Callback } from './events.js';

/**
 * Callbacks sorted by `order` (ties keep insertion order), with typed lookup.
 * @example
 * ```ts
 * const stopper = learn.cbs.get(tsf.EarlyStopping);
 * ```
 */
export class CallbackList {
  private items: Callback[] = [];

  /** Callbacks in run order. */
  get list(): readonly Callback[] {
    return this.items;
  }

  /**
   * Adds a callback (no-op if this exact object is already there).
   * @param cb - The callback.
   * @throws {@link ValueError} if `cb` has no string `name`.
   */
  add(cb: Callback): void {
    if (typeof cb?.name !== 'string' || cb.name === '') {
      throw new ValueError('A callback must have a non-empty string `name`.');
    }
    if (this.items.includes(cb)) return;
    const order = cb.order ?? 0;
    let i = this.items.length;
    while (i > 0 && ((this.items[i - 1] as Callback).order ?? 0) > order) i--;
    this.items.splice(i, 0, cb);
  }

  /**
   * Removes a callback.
   * @param cb - The callback object.
   * @returns Whether it was there.
   */
  remove(cb: Callback): boolean {
    const i = this.items.indexOf(cb);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }

  /**
   * The first callback of a class, or with a name.
   * @param key - A class or a callback name.
   * @returns The callback, or `undefined`.
   * @example
   * ```ts
   * learn.cbs.get(tsf.Recorder)?.losses;
   * learn.cbs.get('progress');
   * ```
   */
  get<T extends Callback>(key: abstract new (...args: never[]) => T): T | undefined;
  get(key: string): Callback | undefined;
  get(key: string | (abstract new (...args: never[]) => Callback)): Callback | undefined {
    if (typeof key === 'string') return this.items.find((c) => c.name === key);
    return this.items.find((c) => c instanceof key);
  }
}
