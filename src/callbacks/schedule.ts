/**
 * Schedules as pure functions of the training position in [0, 1], the ParamScheduler that
 * applies them every batch, and the fit helpers built on them (one-cycle, flat-cos, SGDR,
 * fine-tune), as in fastai's `callback/schedule.py`.
 */
import { checkOptionKeys, invalidValue } from '../core/errors.js';
import type { Callback, EventContext } from '../learner/events.js';
import type { Learner } from '../learner/learner.js';
import { type HyperValue, lrRange } from '../learner/lr-range.js';

/**
 * A schedule: value as a function of the position `pos` in [0, 1].
 * @example
 * ```ts
 * const warmup: tsf.Schedule = (pos) => 1e-3 * Math.min(1, pos * 10);
 * ```
 */
export type Schedule = (pos: number) => number;

/**
 * Linear from `start` to `end`.
 * @param start - Value at 0.
 * @param end - Value at 1.
 * @returns The schedule.
 * @example
 * ```ts
 * tsf.schedLin(1, 2)(0.5); // 1.5
 * ```
 */
export function schedLin(start: number, end: number): Schedule {
  return (pos) => start + pos * (end - start);
}

/**
 * Cosine from `start` to `end`: `start + (1 + cos(pi * (1 - pos))) * (end - start) / 2`.
 * @param start - Value at 0.
 * @param end - Value at 1.
 * @returns The schedule.
 * @example
 * ```ts
 * tsf.schedCos(0, 1)(0.5); // 0.5
 * ```
 */
export function schedCos(start: number, end: number): Schedule {
  return (pos) => start + ((1 + Math.cos(Math.PI * (1 - pos))) * (end - start)) / 2;
}

/**
 * Constant `start`.
 * @param start - The value.
 * @returns The schedule.
 * @example
 * ```ts
 * tsf.schedNo(3)(0.7); // 3
 * ```
 */
export function schedNo(start: number): Schedule {
  return () => start;
}

/**
 * Exponential from `start` to `end`: `start * (end / start) ** pos`.
 * @param start - Value at 0.
 * @param end - Value at 1.
 * @returns The schedule.
 * @example
 * ```ts
 * tsf.schedExp(1e-7, 10)(0.5); // 1e-3
 * ```
 */
export function schedExp(start: number, end: number): Schedule {
  return (pos) => start * (end / start) ** pos;
}

/**
 * Joins schedules: `scheds[i]` runs over a fraction `pcts[i]` of training (fastai's
 * `combine_scheds`).
 * @param pcts - Fractions, summing to 1.
 * @param scheds - One schedule per fraction.
 * @returns The combined schedule.
 * @throws {@link ValueError} if lengths differ or the fractions do not sum to 1.
 * @example
 * ```ts
 * const s = tsf.combineScheds([0.3, 0.7], [tsf.schedLin(0, 1), tsf.schedCos(1, 0)]);
 * ```
 */
export function combineScheds(pcts: readonly number[], scheds: readonly Schedule[]): Schedule {
  if (pcts.length !== scheds.length) {
    throw invalidValue('pcts', `one fraction per schedule (${scheds.length})`, pcts);
  }
  const sum = pcts.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6) throw invalidValue('pcts', 'fractions summing to 1', pcts);
  const bounds = [0];
  for (const p of pcts) bounds.push((bounds.at(-1) as number) + p);
  return (pos) => {
    if (pos >= 1) return (scheds.at(-1) as Schedule)(1);
    let idx = 0;
    for (let i = 0; i < pcts.length; i++) if (pos >= (bounds[i] as number)) idx = i;
    const lo = bounds[idx] as number;
    const hi = bounds[idx + 1] as number;
    return (scheds[idx] as Schedule)((pos - lo) / (hi - lo));
  };
}

/**
 * Cosine from `start` to `middle` over `pct`, then cosine to `end` (fastai's `combined_cos`).
 * @param pct - Fraction of the first phase.
 * @param start - Start value.
 * @param middle - Value at `pct`.
 * @param end - Final value.
 * @returns The schedule.
 * @example
 * ```ts
 * const lr = tsf.combinedCos(0.25, 4e-5, 1e-3, 1e-8);
 * ```
 */
export function combinedCos(pct: number, start: number, middle: number, end: number): Schedule {
  return combineScheds([pct, 1 - pct], [schedCos(start, middle), schedCos(middle, end)]);
}

/**
 * Schedules per hyper-parameter: one for every group, or one per group.
 * @example
 * ```ts
 * const scheds: tsf.Schedules = { lr: tsf.schedCos(1e-3, 1e-5), mom: tsf.schedNo(0.9) };
 * await learn.fit(2, undefined, { cbs: [new tsf.ParamScheduler(scheds)] });
 * ```
 */
export type Schedules = Record<string, Schedule | readonly Schedule[]>;

/**
 * Sets hyper-parameters from schedules before every training batch (fastai's
 * `ParamScheduler`), recording the last group's values in `hps`.
 *
 * @example
 * ```ts
 * await learn.fit(2, undefined, { cbs: [new tsf.ParamScheduler({ lr: tsf.schedCos(1e-3, 1e-5) })] });
 * ```
 */
export class ParamScheduler implements Callback {
  /** Name. */
  readonly name: string = 'paramScheduler';
  /** After the Recorder. */
  readonly order = 60;
  /** Training batches only. */
  readonly runOn = 'train';
  /** Value of each scheduled hyper-parameter (last group) per batch. */
  hps: Record<string, number[]> = {};

  /** @param scheds - Schedules by hyper-parameter name. */
  constructor(readonly scheds: Schedules) {}

  /** Resets `hps`. */
  beforeFit(): void {
    this.hps = Object.fromEntries(Object.keys(this.scheds).map((k) => [k, [] as number[]]));
  }

  /** Sets the hypers for this batch. */
  beforeBatch({ learn, pctTrain }: EventContext): void {
    this.setAt(learn, pctTrain);
  }

  /** Records the values used. */
  afterBatch({ learn }: EventContext): void {
    const last = learn.opt.paramGroups.at(-1)?.hypers ?? {};
    for (const k of Object.keys(this.scheds)) this.hps[k]?.push(last[k] ?? Number.NaN);
  }

  /**
   * Sets every scheduled hyper-parameter at position `pos`.
   * @param learn - The learner.
   * @param pos - Position in [0, 1].
   */
  setAt(learn: Learner, pos: number): void {
    for (const [name, s] of Object.entries(this.scheds)) {
      learn.opt.setHyper(name, typeof s === 'function' ? s(pos) : s.map((f) => f(pos)));
    }
  }
}

/**
 * Options of {@link fitOneCycle}.
 * @example
 * ```ts
 * await learn.fitOneCycle(5, 1e-3, { pctStart: 0.3, div: 25, moms: [0.95, 0.85, 0.95] });
 * ```
 */
export interface FitOneCycleOptions {
  /**
   * Start LR is `lrMax / div`.
   * @defaultValue 25
   */
  div?: number;
  /**
   * Final LR is `lrMax / divFinal`.
   * @defaultValue 1e5
   */
  divFinal?: number;
  /**
   * Fraction of training spent warming up.
   * @defaultValue 0.25
   */
  pctStart?: number;
  /**
   * Weight decay.
   * @defaultValue the learner's
   */
  wd?: number;
  /**
   * Momentum start, middle, end.
   * @defaultValue the learner's `moms` (0.95, 0.85, 0.95)
   */
  moms?: readonly [number, number, number];
  /**
   * Extra callbacks for this fit.
   * @defaultValue []
   */
  cbs?: readonly Callback[];
}

function lrsFrom(learn: Learner, lr: HyperValue | undefined): number[] {
  learn.opt.setHyper('lr', lr ?? learn.lr);
  return learn.opt.getHyper('lr');
}

/**
 * One-cycle training, fastai's `fit_one_cycle`: see {@link Learner.fitOneCycle}.
 * @param learn - The learner.
 * @param nEpoch - Epochs.
 * @param lrMax - Peak LR(s).
 * @param options - See {@link FitOneCycleOptions}.
 * @returns When training ends.
 * @example
 * ```ts
 * await tsf.fitOneCycle(learn, 3, 1e-3);
 * ```
 */
export async function fitOneCycle(
  learn: Learner,
  nEpoch: number,
  lrMax?: HyperValue,
  options: FitOneCycleOptions = {},
): Promise<void> {
  checkOptionKeys('fitOneCycle', options, ['div', 'divFinal', 'pctStart', 'wd', 'moms', 'cbs']);
  const div = options.div ?? 25;
  const divFinal = options.divFinal ?? 1e5;
  const pct = options.pctStart ?? 0.25;
  const [m0, m1, m2] = options.moms ?? learn.moms;
  const lrs = lrsFrom(learn, lrMax);
  const scheds: Schedules = {
    lr: lrs.map((l) => combinedCos(pct, l / div, l, l / divFinal)),
    mom: combinedCos(pct, m0, m1, m2),
  };
  await learn.fit(nEpoch, undefined, {
    ...(options.wd !== undefined ? { wd: options.wd } : {}),
    cbs: [new ParamScheduler(scheds), ...(options.cbs ?? [])],
  });
}

/**
 * Options of {@link fitFlatCos}.
 * @example
 * ```ts
 * await learn.fitFlatCos(5, 1e-3, { pctStart: 0.75 });
 * ```
 */
export interface FitFlatCosOptions {
  /**
   * Final LR is `lr / divFinal`.
   * @defaultValue 1e5
   */
  divFinal?: number;
  /**
   * Fraction of training at the flat LR.
   * @defaultValue 0.75
   */
  pctStart?: number;
  /**
   * Weight decay.
   * @defaultValue the learner's
   */
  wd?: number;
  /**
   * Extra callbacks for this fit.
   * @defaultValue []
   */
  cbs?: readonly Callback[];
}

/**
 * Flat LR then cosine annealing, fastai's `fit_flat_cos`.
 * @param learn - The learner.
 * @param nEpoch - Epochs.
 * @param lr - LR(s).
 * @param options - See {@link FitFlatCosOptions}.
 * @returns When training ends.
 * @example
 * ```ts
 * await tsf.fitFlatCos(learn, 5, 1e-3);
 * ```
 */
export async function fitFlatCos(
  learn: Learner,
  nEpoch: number,
  lr?: HyperValue,
  options: FitFlatCosOptions = {},
): Promise<void> {
  checkOptionKeys('fitFlatCos', options, ['divFinal', 'pctStart', 'wd', 'cbs']);
  const divFinal = options.divFinal ?? 1e5;
  const pct = options.pctStart ?? 0.75;
  const lrs = lrsFrom(learn, lr);
  const scheds: Schedules = { lr: lrs.map((l) => combinedCos(pct, l, l, l / divFinal)) };
  await learn.fit(nEpoch, undefined, {
    ...(options.wd !== undefined ? { wd: options.wd } : {}),
    cbs: [new ParamScheduler(scheds), ...(options.cbs ?? [])],
  });
}

/**
 * Options of {@link fitSgdr}.
 * @example
 * ```ts
 * await tsf.fitSgdr(learn, 3, 1, 1e-3, { cycleMult: 2 }); // cycles of 1, 2 and 4 epochs
 * ```
 */
export interface FitSgdrOptions {
  /**
   * Each cycle is `cycleMult` times longer than the previous one.
   * @defaultValue 2
   */
  cycleMult?: number;
  /**
   * Weight decay.
   * @defaultValue the learner's
   */
  wd?: number;
  /**
   * Extra callbacks for this fit.
   * @defaultValue []
   */
  cbs?: readonly Callback[];
}

/**
 * SGD with warm restarts, fastai's `fit_sgdr`: `nCycles` cosine cycles from `lrMax` to 0,
 * the first `cycleLen` epochs long, each `cycleMult` times longer.
 * @param learn - The learner.
 * @param nCycles - Cycles.
 * @param cycleLen - Epochs of the first cycle.
 * @param lrMax - Peak LR(s).
 * @param options - See {@link FitSgdrOptions}.
 * @returns When training ends.
 * @example
 * ```ts
 * await tsf.fitSgdr(learn, 3, 1, 1e-3);
 * ```
 */
export async function fitSgdr(
  learn: Learner,
  nCycles: number,
  cycleLen: number,
  lrMax?: HyperValue,
  options: FitSgdrOptions = {},
): Promise<void> {
  checkOptionKeys('fitSgdr', options, ['cycleMult', 'wd', 'cbs']);
  const mult = options.cycleMult ?? 2;
  const nEpoch =
    mult === 1 ? cycleLen * nCycles : Math.floor((cycleLen * (mult ** nCycles - 1)) / (mult - 1));
  const pcts = Array.from({ length: nCycles }, (_, i) => (cycleLen * mult ** i) / nEpoch);
  const lrs = lrsFrom(learn, lrMax);
  const scheds: Schedules = {
    lr: lrs.map((l) =>
      combineScheds(
        pcts,
        pcts.map(() => schedCos(l, 0)),
      ),
    ),
  };
  await learn.fit(nEpoch, undefined, {
    ...(options.wd !== undefined ? { wd: options.wd } : {}),
    cbs: [new ParamScheduler(scheds), ...(options.cbs ?? [])],
  });
}

/**
 * Options of {@link fineTune}.
 * @example
 * ```ts
 * await learn.fineTune(3, 2e-3, { freezeEpochs: 1, lrMult: 100 });
 * ```
 */
export interface FineTuneOptions {
  /**
   * Epochs with the body frozen.
   * @defaultValue 1
   */
  freezeEpochs?: number;
  /**
   * Warm-up fraction of the frozen one-cycle. fastai's `fine_tune` warms up for 0.99 of the
   * frozen epochs, so the head trains near its peak rate only at the very end; the fastai
   * book's manual recipe (`fit_one_cycle(3, 3e-3)`, then `unfreeze()`) uses `fit_one_cycle`'s
   * 0.25, which converges the head in fewer epochs on small data sets.
   * @defaultValue 0.99
   */
  freezePctStart?: number;
  /**
   * The first group's LR is `unfrozenLr / lrMult` when unfrozen.
   * @defaultValue 100
   */
  lrMult?: number;
  /**
   * Peak LR of the last group once unfrozen (the unfrozen cycle runs at
   * `lrRange(unfrozenLr / lrMult, unfrozenLr)`). fastai's `fine_tune` uses `baseLr / 2`; the
   * fastai book's manual recipe unfreezes at `slice(1e-6, 1e-4)`, i.e. `unfrozenLr: 1e-4`,
   * which small data sets and a body whose BatchNorm keeps its pretrained statistics
   * (`BnFreeze({ body: true })`) need: at `baseLr / 2` the unfrozen epochs undo the frozen one.
   * @defaultValue baseLr / 2
   */
  unfrozenLr?: number;
  /**
   * Warm-up fraction of the unfrozen one-cycle.
   * @defaultValue 0.3
   */
  pctStart?: number;
  /**
   * `div` of the unfrozen one-cycle.
   * @defaultValue 5
   */
  div?: number;
  /**
   * Weight decay.
   * @defaultValue the learner's
   */
  wd?: number;
  /**
   * Extra callbacks for both fits.
   * @defaultValue []
   */
  cbs?: readonly Callback[];
}

/**
 * fastai's `fine_tune`: `freeze()`, one-cycle for `freezeEpochs` at `lrRange(baseLr)` with
 * `pctStart` `freezePctStart` (0.99), then `unfreeze()`, one-cycle for `epochs` at
 * `lrRange(lr / lrMult, lr)` with `lr = unfrozenLr ?? baseLr / 2`.
 * @param learn - The learner.
 * @param epochs - Unfrozen epochs.
 * @param baseLr - Base LR. Defaults to 2e-3.
 * @param options - See {@link FineTuneOptions}.
 * @returns When training ends.
 * @example
 * ```ts
 * await tsf.fineTune(learn, 4, 2e-3);
 * // The recipe of the README: 5 frozen epochs (warm-up 0.25), then slice(1e-6, 1e-4) unfrozen.
 * await tsf.fineTune(learn, 6, 2e-3, { freezeEpochs: 5, freezePctStart: 0.25, unfrozenLr: 1e-4 });
 * ```
 */
export async function fineTune(
  learn: Learner,
  epochs: number,
  baseLr = 2e-3,
  options: FineTuneOptions = {},
): Promise<void> {
  checkOptionKeys('fineTune', options, [
    'freezeEpochs',
    'freezePctStart',
    'lrMult',
    'unfrozenLr',
    'pctStart',
    'div',
    'wd',
    'cbs',
  ]);
  if (options.unfrozenLr !== undefined && !(options.unfrozenLr > 0)) {
    throw invalidValue('unfrozenLr', 'a positive number', options.unfrozenLr);
  }
  const freezePct = options.freezePctStart ?? 0.99;
  if (!(freezePct > 0 && freezePct < 1)) {
    throw invalidValue('freezePctStart', 'a fraction in (0, 1)', freezePct);
  }
  const shared = {
    ...(options.wd !== undefined ? { wd: options.wd } : {}),
    ...(options.cbs !== undefined ? { cbs: options.cbs } : {}),
  };
  learn.freeze();
  await fitOneCycle(learn, options.freezeEpochs ?? 1, lrRange(baseLr), {
    pctStart: freezePct,
    ...shared,
  });
  const lr = options.unfrozenLr ?? baseLr / 2;
  learn.unfreeze();
  await fitOneCycle(learn, epochs, lrRange(lr / (options.lrMult ?? 100), lr), {
    pctStart: options.pctStart ?? 0.3,
    div: options.div ?? 5,
    ...shared,
  });
}
