import type { FeatureRecord } from './features';
import { sigmoid } from './logistic';
import { seededRandom, type Random } from './random';

/**
 * A synthetic population of abandoned carts whose true purchase probability is known (a logistic
 * function of the features plus noise-free draws), for judging the trainer: a good model's AUC
 * comes close to the AUC of the true probabilities, and its calibration error is small.
 */
export interface SyntheticPopulation {
  readonly rows: FeatureRecord[];
  readonly labels: number[];
  /** The probability each label was drawn with. */
  readonly trueProbabilities: number[];
}

function normal(random: Random): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

const DEVICES = ['desktop', 'mobile', 'tablet'] as const;
const SOURCES = ['email', 'search', 'social', 'direct'] as const;

export function syntheticPopulation(size: number, seed: number): SyntheticPopulation {
  const random = seededRandom(seed);
  const rows: FeatureRecord[] = [];
  const labels: number[] = [];
  const trueProbabilities: number[] = [];
  for (let i = 0; i < size; i++) {
    const logValue = 4 + 0.8 * normal(random);
    const items = 1 + Math.floor(random() * 6);
    const returning = random() < 0.4;
    const device = DEVICES[Math.floor(random() * DEVICES.length)];
    const source = random() < 0.15 ? null : SOURCES[Math.floor(random() * SOURCES.length)];
    const hourKnown = random() < 0.9;
    const hour = Math.floor(random() * 24);
    const z =
      -1.1 +
      0.7 * (logValue - 4) +
      0.15 * (items - 3.5) +
      (returning ? 0.9 : 0) +
      (device === 'mobile' ? -0.5 : device === 'tablet' ? -0.2 : 0) +
      (source === 'email' ? 0.8 : source === 'social' ? -0.4 : source === null ? -0.6 : 0) +
      (hourKnown && hour >= 18 ? 0.3 : 0);
    const p = sigmoid(z);
    rows.push({
      cart_value: Math.round(Math.exp(logValue) * 100) / 100,
      log_cart_value: logValue,
      items,
      returning,
      device,
      traffic_source: source,
      evening: hourKnown ? hour >= 18 : null,
      noise: normal(random),
    });
    trueProbabilities.push(p);
    labels.push(random() < p ? 1 : 0);
  }
  return { rows, labels, trueProbabilities };
}
