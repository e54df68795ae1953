import { brierScore, evaluate, expectedCalibrationError, reliabilityTable, rocAuc } from './metrics';

describe('metrics', () => {
  it('ROC AUC is the share of positive–negative pairs ranked right, ties counting half', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(rocAuc([0.5, 0.5, 0.5], [0, 1, 1])).toBeCloseTo(0.5, 12);
    expect(rocAuc([0.9, 0.1], [0, 1])).toBe(0);
    expect(rocAuc([0.2, 0.3], [1, 1])).toBeNaN();
  });

  it('Brier score is the mean squared error of the probabilities', () => {
    expect(brierScore([1, 0, 0.5], [1, 1, 0])).toBeCloseTo((0 + 1 + 0.25) / 3, 12);
  });

  it('the reliability table bins by predicted probability and ECE weighs each bin by its size', () => {
    const p = [0.05, 0.05, 0.95, 0.95, 1];
    const y = [0, 1, 1, 1, 1];
    const table = reliabilityTable(p, y);
    expect(table).toHaveLength(10);
    expect(table[0]).toMatchObject({ lower: 0, upper: 0.1, count: 2, meanPredicted: 0.05, observedRate: 0.5 });
    expect(table[9].count).toBe(3); // 1.0 falls in the last bin
    expect(table[5].count).toBe(0);
    expect(table[5].meanPredicted).toBeNaN();
    const expected = (2 / 5) * 0.45 + (3 / 5) * Math.abs((0.95 + 0.95 + 1) / 3 - 1);
    expect(expectedCalibrationError(table)).toBeCloseTo(expected, 12);
    expect(evaluate(p, y)).toMatchObject({ rows: 5, positives: 4 });
  });
});
