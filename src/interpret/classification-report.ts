/**
 * scikit-learn's `classification_report` as text: per-class precision, recall, F1 and
 * support, then accuracy and the macro and weighted averages (what fastai's
 * `print_classification_report` prints).
 */
import { invalidValue, ValueError } from '../core/errors.js';

/**
 * One class's row of {@link classificationReport}, or an average.
 * @example
 * ```ts
 * const row: tsf.ClassScores = { precision: 0.5, recall: 1, f1: 0.67, support: 1 };
 * ```
 */
export interface ClassScores {
  /** Correct predictions of the class / predictions of the class (0 when none). */
  precision: number;
  /** Correct predictions of the class / items of the class (0 when none). */
  recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f1: number;
  /** Items of the class (for averages: all items). */
  support: number;
}

/**
 * The numbers of {@link classificationReport}.
 * @example
 * ```ts
 * const { accuracy, macroAvg } = tsf.classificationScores([0, 1], [0, 0], ['a', 'b']);
 * ```
 */
export interface ClassificationScores {
  /** Per class, in vocab order. */
  perClass: ClassScores[];
  /** Fraction of correct predictions. */
  accuracy: number;
  /** Unweighted mean over the classes (every vocab class counts, even without items). */
  macroAvg: ClassScores;
  /** Mean over the classes weighted by support. */
  weightedAvg: ClassScores;
}

/**
 * Precision, recall, F1 and support per class and averaged, as scikit-learn's
 * `precision_recall_fscore_support` with `zero_division=0` over every class of the vocab.
 * @param targets - Actual class index per item.
 * @param decoded - Predicted class index per item.
 * @param vocab - Class names.
 * @returns The scores.
 * @throws {@link ValueError} when the lists differ in length or an index is not a class.
 * @example
 * ```ts
 * tsf.classificationScores([0, 1, 2, 2, 2], [0, 0, 2, 2, 1], ['a', 'b', 'c']).accuracy; // 0.6
 * ```
 */
export function classificationScores(
  targets: readonly number[],
  decoded: readonly number[],
  vocab: readonly string[],
): ClassificationScores {
  if (targets.length !== decoded.length) {
    throw new ValueError(
      `classificationScores: ${targets.length} targets but ${decoded.length} predictions.`,
    );
  }
  const c = vocab.length;
  for (const [name, arr] of [
    ['targets', targets],
    ['decoded', decoded],
  ] as const) {
    arr.forEach((v, i) => {
      if (!(Number.isInteger(v) && v >= 0 && v < c)) {
        throw invalidValue(`${name}[${i}]`, `a class index in [0, ${c - 1}]`, v);
      }
    });
  }
  const tp = new Array<number>(c).fill(0);
  const predicted = new Array<number>(c).fill(0);
  const support = new Array<number>(c).fill(0);
  targets.forEach((t, i) => {
    const p = decoded[i]!;
    support[t]! += 1;
    predicted[p]! += 1;
    if (p === t) tp[t]! += 1;
  });
  const div = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const perClass = vocab.map((_, k) => {
    const precision = div(tp[k]!, predicted[k]!);
    const recall = div(tp[k]!, support[k]!);
    return {
      precision,
      recall,
      f1: div(2 * precision * recall, precision + recall),
      support: support[k]!,
    };
  });
  const n = targets.length;
  const mean = (weight: (s: ClassScores) => number): ClassScores => {
    const total = perClass.reduce((s, r) => s + weight(r), 0);
    const avg = (key: 'precision' | 'recall' | 'f1') =>
      div(
        perClass.reduce((s, r) => s + r[key] * weight(r), 0),
        total,
      );
    return { precision: avg('precision'), recall: avg('recall'), f1: avg('f1'), support: n };
  };
  return {
    perClass,
    accuracy: div(
      tp.reduce((a, b) => a + b, 0),
      n,
    ),
    macroAvg: mean(() => 1),
    weightedAvg: mean((r) => r.support),
  };
}

/**
 * scikit-learn's `classification_report` text, laid out as scikit-learn does (names right
 * aligned, 2 decimals, rounded half to even as Python formats them).
 * @param targets - Actual class index per item.
 * @param decoded - Predicted class index per item.
 * @param vocab - Class names.
 * @returns The report.
 * @throws {@link ValueError} as {@link classificationScores}.
 * @example
 * ```ts
 * console.log(tsf.classificationReport([0, 1, 2, 2, 2], [0, 0, 2, 2, 1], ['a', 'b', 'c']));
 * ```
 */
export function classificationReport(
  targets: readonly number[],
  decoded: readonly number[],
  vocab: readonly string[],
): string {
  const s = classificationScores(targets, decoded, vocab);
  const digits = 2;
  const width = Math.max(...vocab.map((v) => v.length), 'weighted avg'.length, digits);
  const name = (t: string) => t.padStart(width);
  const num = (v: number) => fixedHalfEven(v, digits).padStart(9);
  const int = (v: number) => String(v).padStart(9);
  const row = (t: string, r: ClassScores) =>
    `${name(t)}  ${num(r.precision)} ${num(r.recall)} ${num(r.f1)} ${int(r.support)}\n`;
  let out = `${name('')}  ${['precision', 'recall', 'f1-score', 'support'].map((h) => h.padStart(9)).join(' ')}\n\n`;
  vocab.forEach((v, k) => {
    out += row(v, s.perClass[k]!);
  });
  out += '\n';
  out += `${name('accuracy')}  ${''.padStart(9)} ${''.padStart(9)} ${num(s.accuracy)} ${int(targets.length)}\n`;
  out += row('macro avg', s.macroAvg);
  out += row('weighted avg', s.weightedAvg);
  return out;
}

/**
 * `x.toFixed(digits)` except that an exact tie (e.g. 0.125, exact in binary) rounds to the
 * even digit, as Python's `format(x, '.2f')` does, so the text matches scikit-learn's.
 */
function fixedHalfEven(x: number, digits: number): string {
  const exact = x.toFixed(60);
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(rest)) return x.toFixed(digits);
  const truncated = exact.slice(0, dot + 1 + digits);
  const last = Number(truncated.at(-1));
  if (last % 2 === 0) return truncated;
  return x.toFixed(digits); // odd: rounding up makes it even
}
