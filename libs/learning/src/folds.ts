import { seededRandom, shuffleInPlace } from './random';

/**
 * Stratified k-fold assignment: each class is shuffled with the seed and dealt round-robin, so every
 * fold holds (within one row) the same share of positives. Returns the fold number of each row.
 */
export function stratifiedFolds(labels: readonly number[], folds: number, seed: number): number[] {
  if (!Number.isInteger(folds) || folds < 2) throw new RangeError('folds must be a whole number ≥ 2');
  const random = seededRandom(seed);
  const assignment = new Array<number>(labels.length).fill(-1);
  let next = 0;
  for (const cls of [0, 1]) {
    const members = labels.flatMap((y, i) => (y === cls ? [i] : []));
    shuffleInPlace(members, random);
    for (const i of members) {
      assignment[i] = next;
      next = (next + 1) % folds;
    }
  }
  return assignment;
}

/** The smaller class's size: stratified k-fold needs at least k rows of each class. */
export function minorityCount(labels: readonly number[]): number {
  const positives = labels.reduce((s, y) => s + y, 0);
  return Math.min(positives, labels.length - positives);
}
