/**
 * A minimal gradient-boosted-trees classifier, for `bench/gbt-vs-logistic.ts` only (RFC 0009,
 * "Gradient-boosted trees"): no npm package was fit for the comparison (the RFC says why), so this is
 * the textbook second-order method (XGBoost/LightGBM's "histogram" variant), kept small:
 *
 * - each column is binned once on the training rows: a numeric into ≤ `bins` quantile bins plus a
 *   missing bin, a categorical into its most frequent levels plus "other" and "missing";
 * - log loss; each round fits one depth-limited tree to the gradients g = p − y and hessians
 *   h = p(1 − p): a split maximises G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) with both children
 *   holding at least `minChildHessian`; numeric splits `x ≤ t` send missing values to the better
 *   side (learned default direction); categorical splits order the levels by G/H and cut that
 *   order (the optimal binary partition for this loss, as LightGBM does); a leaf is −G/(H+λ) times
 *   the learning rate; a node's histogram is the parent's minus its smaller sibling's;
 * - how many rounds: the round with the lowest out-of-fold log loss over the same stratified 5 folds
 *   that give the held-out scores the Platt calibration is fitted on (exactly as the engine's
 *   trainer calibrates), stopping `patience` rounds after the best; then the final model is fitted
 *   on all rows for that many rounds.
 *
 * No randomness besides the folds (no row or column sampling): same rows and seed, same model.
 */
import {
  applyPlatt,
  deriveSeed,
  fitPlatt,
  isMissing,
  minorityCount,
  sigmoid,
  stratifiedFolds,
  type Calibration,
  type FeatureRecord,
  type FeatureValue,
} from '@reclaim/learning';

export interface BoostingOptions {
  readonly columns: readonly string[];
  readonly kinds: Readonly<Record<string, 'numeric' | 'categorical'>>;
  /** Depth of each tree (default 3). */
  readonly maxDepth?: number;
  /** Shrinkage of each tree's leaves (default 0.1). */
  readonly learningRate?: number;
  /** At most this many rounds (default 500). */
  readonly maxRounds?: number;
  /** Stop this many rounds after the best out-of-fold loss (default 30). */
  readonly patience?: number;
  /** λ on the leaf values (default 1). */
  readonly l2?: number;
  /** Smallest sum of hessians in a child (default 1). */
  readonly minChildHessian?: number;
  /** Quantile bins per numeric column (default 64, at most 254). */
  readonly bins?: number;
  /** Most frequent levels kept per categorical column (default 50). */
  readonly maxLevels?: number;
  /** Folds for the out-of-fold scores (calibration and the number of rounds). Default 5. */
  readonly calibrationFolds?: number;
  readonly seed?: number;
}

type ColumnBins =
  | { readonly name: string; readonly kind: 'numeric'; readonly cuts: readonly number[] }
  | { readonly name: string; readonly kind: 'categorical'; readonly levels: readonly string[] };

/** A node: a leaf (`value`) or a split on column `column`. */
type TreeNode =
  | { readonly value: number }
  | {
      readonly column: number;
      /** Numeric: codes ≤ `bin` (x ≤ `threshold`) go left; missing goes left when `missingLeft`. */
      readonly bin?: number;
      readonly threshold?: number;
      readonly missingLeft?: boolean;
      /** Categorical: the codes that go left. */
      readonly leftCodes?: readonly number[];
      readonly left: TreeNode;
      readonly right: TreeNode;
    };

export interface BoostedTreesModel {
  readonly format: 'bench.gbt-logloss-platt';
  readonly bins: readonly ColumnBins[];
  readonly base: number;
  readonly trees: readonly TreeNode[];
  readonly calibration: Calibration;
  readonly training: {
    readonly rows: number;
    readonly rounds: number;
    readonly outOfFoldLogLoss: number;
    readonly maxDepth: number;
    readonly learningRate: number;
    readonly l2: number;
    readonly minChildHessian: number;
  };
}

function numberOf(v: FeatureValue): number | undefined {
  if (isMissing(v)) return undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Codes per column: numeric 0..cuts.length, missing = cuts.length + 1; categorical level index, other, missing. */
function widthOf(b: ColumnBins): number {
  return b.kind === 'numeric' ? b.cuts.length + 2 : b.levels.length + 2;
}

function codeOf(b: ColumnBins, v: FeatureValue): number {
  if (b.kind === 'numeric') {
    const x = numberOf(v);
    if (x === undefined) return b.cuts.length + 1;
    let lo = 0;
    let hi = b.cuts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (x <= b.cuts[mid]) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
  if (isMissing(v)) return b.levels.length + 1;
  const i = b.levels.indexOf(String(v));
  return i >= 0 ? i : b.levels.length;
}

export function fitBins(rows: readonly FeatureRecord[], options: BoostingOptions): ColumnBins[] {
  const bins = Math.min(254, options.bins ?? 64);
  const maxLevels = options.maxLevels ?? 50;
  return options.columns.map((name): ColumnBins => {
    const kind = options.kinds[name];
    if (kind === undefined) throw new RangeError(`column ${name}: no kind given`);
    if (kind === 'numeric') {
      const present: number[] = [];
      for (const r of rows) {
        const x = numberOf(r[name]);
        if (x !== undefined) present.push(x);
      }
      const sorted = Float64Array.from(present).sort();
      const cuts: number[] = [];
      for (let k = 1; k < bins; k++) {
        const q = sorted[Math.floor((k * sorted.length) / bins)];
        if (q !== undefined && (cuts.length === 0 || q > cuts[cuts.length - 1]) && q < sorted[sorted.length - 1])
          cuts.push(q);
      }
      return { name, kind, cuts };
    }
    const counts = new Map<string, number>();
    for (const r of rows) {
      const v = r[name];
      if (!isMissing(v)) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
    }
    const levels = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, maxLevels)
      .map(([l]) => l)
      .sort();
    return { name, kind, levels };
  });
}

/** Column-major codes of many rows. */
function codeRows(bins: readonly ColumnBins[], rows: readonly FeatureRecord[]): Uint8Array[] {
  return bins.map((b) => {
    const out = new Uint8Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = codeOf(b, rows[i][b.name]);
    return out;
  });
}

interface Growth {
  readonly bins: readonly ColumnBins[];
  readonly codes: readonly Uint8Array[];
  readonly offsets: Int32Array;
  readonly histSize: number;
  readonly maxDepth: number;
  readonly learningRate: number;
  readonly l2: number;
  readonly minChildHessian: number;
}

function histogram(t: Growth, rows: Uint32Array, g: Float64Array, h: Float64Array): Float64Array {
  const hist = new Float64Array(t.histSize * 2);
  for (let c = 0; c < t.codes.length; c++) {
    const codes = t.codes[c];
    const base = t.offsets[c] * 2;
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k];
      const at = base + codes[i] * 2;
      hist[at] += g[i];
      hist[at + 1] += h[i];
    }
  }
  return hist;
}

interface Split {
  readonly column: number;
  readonly gain: number;
  readonly bin?: number;
  readonly missingLeft?: boolean;
  readonly leftCodes?: number[];
}

function bestSplit(t: Growth, hist: Float64Array, G: number, H: number): Split | undefined {
  const { l2, minChildHessian: minH } = t;
  const parent = (G * G) / (H + l2);
  let best: Split | undefined;
  const consider = (gain: number, make: () => Split) => {
    if (gain > 1e-9 && (best === undefined || gain > best.gain)) best = make();
  };
  for (let c = 0; c < t.bins.length; c++) {
    const b = t.bins[c];
    const base = t.offsets[c] * 2;
    const width = widthOf(b);
    if (b.kind === 'numeric') {
      const m = width - 1;
      const Gm = hist[base + m * 2];
      const Hm = hist[base + m * 2 + 1];
      let GL = 0;
      let HL = 0;
      for (let bin = 0; bin < m; bin++) {
        GL += hist[base + bin * 2];
        HL += hist[base + bin * 2 + 1];
        // Missing right.
        const HR = H - HL;
        if (HL >= minH && HR >= minH && (bin < m - 1 || Hm > 0)) {
          const gain = (GL * GL) / (HL + l2) + ((G - GL) * (G - GL)) / (HR + l2) - parent;
          consider(gain, () => ({ column: c, gain, bin, missingLeft: false }));
        }
        // Missing left.
        if (Hm > 0 && bin < m - 1) {
          const GL2 = GL + Gm;
          const HL2 = HL + Hm;
          const HR2 = H - HL2;
          if (HL2 >= minH && HR2 >= minH) {
            const gain = (GL2 * GL2) / (HL2 + l2) + ((G - GL2) * (G - GL2)) / (HR2 + l2) - parent;
            consider(gain, () => ({ column: c, gain, bin, missingLeft: true }));
          }
        }
      }
    } else {
      const present: number[] = [];
      for (let k = 0; k < width; k++) if (hist[base + k * 2 + 1] > 0) present.push(k);
      present.sort((x, y) => hist[base + x * 2] / hist[base + x * 2 + 1] - hist[base + y * 2] / hist[base + y * 2 + 1]);
      let GL = 0;
      let HL = 0;
      for (let p = 0; p < present.length - 1; p++) {
        GL += hist[base + present[p] * 2];
        HL += hist[base + present[p] * 2 + 1];
        const HR = H - HL;
        if (HL < minH || HR < minH) continue;
        const gain = (GL * GL) / (HL + l2) + ((G - GL) * (G - GL)) / (HR + l2) - parent;
        consider(gain, () => ({ column: c, gain, leftCodes: present.slice(0, p + 1).sort((x, y) => x - y) }));
      }
    }
  }
  return best;
}

function goesLeft(
  node: { bin?: number; missingLeft?: boolean; leftCodes?: readonly number[] },
  b: ColumnBins,
  code: number,
): boolean {
  if (b.kind === 'numeric') return code === b.cuts.length + 1 ? node.missingLeft === true : code <= node.bin!;
  return node.leftCodes!.includes(code);
}

function grow(t: Growth, rows: Uint32Array, g: Float64Array, h: Float64Array): TreeNode {
  const build = (rows: Uint32Array, depth: number, hist: Float64Array | undefined): TreeNode => {
    let G = 0;
    let H = 0;
    for (let k = 0; k < rows.length; k++) {
      G += g[rows[k]];
      H += h[rows[k]];
    }
    const leaf = { value: (-G / (H + t.l2)) * t.learningRate };
    if (depth >= t.maxDepth || rows.length < 2 || hist === undefined) return leaf;
    // (children at the maximum depth are leaves and need no histogram)
    const split = bestSplit(t, hist, G, H);
    if (split === undefined) return leaf;
    const b = t.bins[split.column];
    const codes = t.codes[split.column];
    const flags = new Uint8Array(widthOf(b));
    for (let code = 0; code < flags.length; code++) flags[code] = goesLeft(split, b, code) ? 1 : 0;
    let nLeft = 0;
    for (let k = 0; k < rows.length; k++) nLeft += flags[codes[rows[k]]];
    const left = new Uint32Array(nLeft);
    const right = new Uint32Array(rows.length - nLeft);
    let l = 0;
    let r = 0;
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k];
      if (flags[codes[i]] === 1) left[l++] = i;
      else right[r++] = i;
    }
    let leftHist: Float64Array | undefined;
    let rightHist: Float64Array | undefined;
    if (depth + 1 < t.maxDepth) {
      const smallIsLeft = left.length <= right.length;
      const small = histogram(t, smallIsLeft ? left : right, g, h);
      const large = new Float64Array(hist.length);
      for (let k = 0; k < hist.length; k++) large[k] = hist[k] - small[k];
      leftHist = smallIsLeft ? small : large;
      rightHist = smallIsLeft ? large : small;
    }
    const node: TreeNode = {
      column: split.column,
      ...(b.kind === 'numeric'
        ? {
            bin: split.bin,
            ...(split.bin! < b.cuts.length ? { threshold: b.cuts[split.bin!] } : {}),
            missingLeft: split.missingLeft,
          }
        : { leftCodes: split.leftCodes }),
      left: build(left, depth + 1, leftHist),
      right: build(right, depth + 1, rightHist),
    };
    return node;
  };
  return build(rows, 0, t.maxDepth > 0 ? histogram(t, rows, g, h) : undefined);
}

function treeMargin(node: TreeNode, bins: readonly ColumnBins[], codes: ArrayLike<number>): number {
  let n = node;
  while (!('value' in n)) n = goesLeft(n, bins[n.column], codes[n.column]) ? n.left : n.right;
  return n.value;
}

/** The same walk over the training codes (column-major) of row i. */
function treeMarginCoded(node: TreeNode, bins: readonly ColumnBins[], codes: readonly Uint8Array[], i: number): number {
  let n = node;
  while (!('value' in n)) n = goesLeft(n, bins[n.column], codes[n.column][i]) ? n.left : n.right;
  return n.value;
}

/** Boosting on a subset of the rows, one round at a time; `others` get their margins updated too (out-of-fold). */
class Booster {
  readonly trees: TreeNode[] = [];
  readonly margin: Float64Array;
  private readonly g: Float64Array;
  private readonly h: Float64Array;

  constructor(
    private readonly t: Growth,
    private readonly labels: readonly number[],
    private readonly rows: Uint32Array,
    readonly base: number,
    private readonly others: Uint32Array,
    private readonly otherMargin: Float64Array,
  ) {
    const n = labels.length;
    this.margin = new Float64Array(n).fill(base);
    this.g = new Float64Array(n);
    this.h = new Float64Array(n);
    for (const i of others) otherMargin[i] = base;
  }

  round(): void {
    const { margin, g, h, labels, rows, others, otherMargin } = this;
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k];
      const p = sigmoid(margin[i]);
      g[i] = p - labels[i];
      h[i] = Math.max(p * (1 - p), 1e-16);
    }
    const tree = grow(this.t, rows, g, h);
    this.trees.push(tree);
    const { codes, bins } = this.t;
    for (let k = 0; k < rows.length; k++) margin[rows[k]] += treeMarginCoded(tree, bins, codes, rows[k]);
    for (let k = 0; k < others.length; k++) otherMargin[others[k]] += treeMarginCoded(tree, bins, codes, others[k]);
  }
}

function logLoss(margin: number, y: number): number {
  // −[y log σ(m) + (1 − y) log(1 − σ(m))], stable.
  const z = y === 1 ? -margin : margin;
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function baseMargin(labels: readonly number[], rows: Uint32Array): number {
  let s = 0;
  for (const i of rows) s += labels[i];
  const p = (s + 0.5) / (rows.length + 1);
  return Math.log(p / (1 - p));
}

export function trainBoostedTrees(
  records: readonly FeatureRecord[],
  labels: readonly number[],
  options: BoostingOptions,
): BoostedTreesModel {
  if (records.length !== labels.length) throw new RangeError(`${records.length} rows for ${labels.length} labels`);
  const maxDepth = options.maxDepth ?? 3;
  const learningRate = options.learningRate ?? 0.1;
  const l2 = options.l2 ?? 1;
  const minChildHessian = options.minChildHessian ?? 1;
  const maxRounds = options.maxRounds ?? 500;
  const patience = options.patience ?? 30;
  const seed = options.seed ?? 1;
  const bins = fitBins(records, options);
  const offsets = new Int32Array(bins.length);
  let histSize = 0;
  bins.forEach((b, c) => {
    offsets[c] = histSize;
    histSize += widthOf(b);
  });
  const t: Growth = {
    bins,
    codes: codeRows(bins, records),
    offsets,
    histSize,
    maxDepth,
    learningRate,
    l2,
    minChildHessian,
  };
  const n = labels.length;
  const k = Math.min(options.calibrationFolds ?? 5, minorityCount(labels));
  if (k < 2) throw new RangeError('fewer than 2 rows of the smaller class: no held-out scores to calibrate on');
  // The same fold assignment as the engine's trainer uses for its Platt calibration.
  const fold = stratifiedFolds(labels, k, deriveSeed(seed, 0xca1));
  const oof = new Float64Array(n);
  const boosters: Booster[] = [];
  for (let f = 0; f < k; f++) {
    const inFold: number[] = [];
    const outFold: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? outFold : inFold).push(i);
    const rows = Uint32Array.from(inFold);
    boosters.push(new Booster(t, labels, rows, baseMargin(labels, rows), Uint32Array.from(outFold), oof));
  }
  let bestRounds = 0;
  let bestLoss = Infinity;
  let bestOof = Float64Array.from(oof);
  for (let round = 1; round <= maxRounds && round - bestRounds <= patience; round++) {
    for (const b of boosters) b.round();
    let loss = 0;
    for (let i = 0; i < n; i++) loss += logLoss(oof[i], labels[i]);
    loss /= n;
    if (loss < bestLoss - 1e-12) {
      bestLoss = loss;
      bestRounds = round;
      bestOof = Float64Array.from(oof);
    }
  }
  const calibration = fitPlatt(Array.from(bestOof), labels);
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const final = new Booster(t, labels, all, baseMargin(labels, all), new Uint32Array(0), new Float64Array(0));
  for (let r = 0; r < bestRounds; r++) final.round();
  return {
    format: 'bench.gbt-logloss-platt',
    bins,
    base: final.base,
    trees: final.trees,
    calibration,
    training: {
      rows: n,
      rounds: bestRounds,
      outOfFoldLogLoss: bestLoss,
      maxDepth,
      learningRate,
      l2,
      minChildHessian,
    },
  };
}

/** The margin (log-odds before calibration) of one row. */
export function boostedMargin(model: BoostedTreesModel, row: FeatureRecord): number {
  const codes = model.bins.map((b) => codeOf(b, row[b.name]));
  let z = model.base;
  for (const tree of model.trees) z += treeMargin(tree, model.bins, codes);
  return z;
}

/** The calibrated probability of one row. */
export function boostedProbability(model: BoostedTreesModel, row: FeatureRecord): number {
  const z = boostedMargin(model, row);
  return model.calibration.method === 'platt' ? applyPlatt(model.calibration, z) : sigmoid(z);
}
