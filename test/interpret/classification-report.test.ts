/**
 * `interp.printClassificationReport()` (fastai's `print_classification_report`, which prints
 * scikit-learn's `classification_report`). Expected values: scikit-learn's documented example
 * verbatim, and scores computed by hand from a confusion matrix.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValueError } from '../../src/core/errors.js';
import { ClassificationInterpretation } from '../../src/interpret/classification-interpretation.js';
import {
  classificationReport,
  classificationScores,
} from '../../src/interpret/classification-report.js';

describe('classification report', () => {
  it("reproduces scikit-learn's documented classification_report example", () => {
    // sklearn.metrics.classification_report docs: y_true = [0, 1, 2, 2, 2],
    // y_pred = [0, 0, 2, 2, 1], target_names = ['class 0', 'class 1', 'class 2'].
    const text = classificationReport(
      [0, 1, 2, 2, 2],
      [0, 0, 2, 2, 1],
      ['class 0', 'class 1', 'class 2'],
    );
    assert.equal(
      text,
      [
        '              precision    recall  f1-score   support',
        '',
        '     class 0       0.50      1.00      0.67         1',
        '     class 1       0.00      0.00      0.00         1',
        '     class 2       1.00      0.67      0.80         3',
        '',
        '    accuracy                           0.60         5',
        '   macro avg       0.50      0.56      0.49         5',
        'weighted avg       0.70      0.60      0.61         5',
        '',
      ].join('\n'),
    );
  });

  it('hand-computed scores: zero-support class, ties rounded half to even, long names', () => {
    // 8 items; cm rows = actual [cat, dog, bird]: cat 3 right 1 as dog; dog 1 right 3 as cat;
    // bird never occurs and is never predicted.
    const targets = [0, 0, 0, 0, 1, 1, 1, 1];
    const decoded = [0, 0, 0, 1, 1, 0, 0, 0];
    const vocab = ['cat', 'dog', 'a_very_long_bird_name'];
    const s = classificationScores(targets, decoded, vocab);
    // cat: precision 3/6, recall 3/4, f1 2*.5*.75/1.25 = 0.6; dog: precision 1/2, recall 1/4,
    // f1 2*.5*.25/.75 = 1/3; bird: 0, 0, 0 with support 0.
    const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
    close(s.perClass[0]!.precision, 0.5);
    close(s.perClass[0]!.recall, 0.75);
    close(s.perClass[0]!.f1, 0.6);
    close(s.perClass[1]!.f1, 1 / 3);
    assert.deepEqual(s.perClass[2], { precision: 0, recall: 0, f1: 0, support: 0 });
    close(s.accuracy, 0.5);
    // macro over all 3 vocab classes (sklearn with labels=vocab): precision (0.5+0.5+0)/3
    close(s.macroAvg.precision, 1 / 3);
    close(s.macroAvg.recall, (0.75 + 0.25) / 3);
    close(s.weightedAvg.recall, (0.75 * 4 + 0.25 * 4) / 8);
    close(s.weightedAvg.f1, (0.6 * 4 + (1 / 3) * 4) / 8);
    const lines = classificationReport(targets, decoded, vocab).split('\n');
    assert.equal(lines[0], `${' '.repeat(21)}  precision    recall  f1-score   support`);
    assert.equal(lines[2], `${'cat'.padStart(21)}       0.50      0.75      0.60         4`);
    // recall 0.25 is an exact binary tie: Python prints 0.25 -> '0.25'; 0.125 would be '0.12'.
    assert.equal(lines[3], `${'dog'.padStart(21)}       0.50      0.25      0.33         4`);
    assert.equal(lines[4], 'a_very_long_bird_name       0.00      0.00      0.00         0');
    const tie = classificationReport(
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 1, 1, 1, 1, 1, 1, 1],
      ['x', 'y'],
    );
    assert.match(tie, /^ {11}x {7}1\.00 {6}0\.12 {6}0\.22 {9}8$/m);
  });

  it('interp.printClassificationReport returns the report of its predictions', () => {
    const interp = new ClassificationInterpretation({
      probs: [
        [0.9, 0.1],
        [0.3, 0.7],
        [0.2, 0.8],
        [0.6, 0.4],
      ],
      targets: [0, 0, 1, 1],
      losses: [0.1, 1.2, 0.2, 0.9],
      vocab: ['ants', 'bees'],
    });
    const text = interp.printClassificationReport();
    assert.equal(text, classificationReport([0, 0, 1, 1], [0, 1, 1, 0], ['ants', 'bees']));
    assert.match(text, /^ {8}ants {7}0\.50 {6}0\.50 {6}0\.50 {9}2$/m);
    assert.match(text, /^ {4}accuracy {27}0\.50 {9}4$/m);
    assert.throws(() => classificationScores([0], [0, 1], ['a', 'b']), ValueError);
    assert.throws(() => classificationScores([0, 2], [0, 1], ['a', 'b']), /targets\[1\]/);
  });
});
