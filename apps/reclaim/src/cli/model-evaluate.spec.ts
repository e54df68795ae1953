import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rocAuc, syntheticPopulation } from '@reclaim/learning';
import { readLabelledTable } from './labelled-table';
import { modelEvaluate } from './model-evaluate';

/** Writes a synthetic population with known purchase probabilities as a CSV an analyst might export. */
function populationCsv(size: number, seed: number): { csv: string; trueAuc: number } {
  const p = syntheticPopulation(size, seed);
  const cols = Object.keys(p.rows[0]);
  const lines = [[...cols, 'purchased'].join(',')];
  p.rows.forEach((r, i) => {
    const cells = cols.map((c) => {
      const v = r[c];
      if (v === null || v === undefined) return i % 2 === 0 ? '' : 'NA';
      return c === 'device' ? `"${String(v)}, web"` : String(v); // quoted commas inside a categorical
    });
    lines.push([...cells, ['no', 'yes'][p.labels[i]]].join(','));
  });
  return { csv: lines.join('\n') + '\n', trueAuc: rocAuc(p.trueProbabilities, p.labels) };
}

describe('model evaluate', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reclaim-model-evaluate-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  async function run(csv: string, args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const file = join(dir, `t${Math.random().toString(36).slice(2)}.csv`);
    await writeFile(file, csv);
    const out: string[] = [];
    const err: string[] = [];
    const code = await modelEvaluate(['--csv', file, ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  it('cross-validates the trainer on a CSV it has never seen: AUC near the true probabilities’, calibrated', async () => {
    const { csv, trueAuc } = populationCsv(4000, 8);
    const { code, out, err } = await run(csv, ['--label', 'purchased', '--folds', '4', '--seed', '2']);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('4000 rows');
    expect(text).toContain('8 feature columns (4 numeric, 2 boolean, 2 categorical)');
    expect(text).toContain('stratified 4-fold cross-validation, seed 2');
    const auc = Number(/AUC\s+([0-9.]+)/.exec(text)?.[1]);
    const ece = Number(/ECE\s+([0-9.]+)/.exec(text)?.[1]);
    expect(auc).toBeGreaterThan(trueAuc - 0.03);
    expect(auc).toBeLessThan(trueAuc + 0.015);
    expect(ece).toBeLessThan(0.04);
    const bins = out.filter((l) => /^0\.\d-[01]\.\d\s/.test(l));
    expect(bins).toHaveLength(10);
    expect(bins.reduce((s, l) => s + Number(l.split(/\s+/)[1]), 0)).toBe(4000);
    console.log(
      `model evaluate on 4000 synthetic rows: AUC ${auc} (true probabilities ${trueAuc.toFixed(4)}), ECE ${ece}`,
    );
  });

  it('gives the same figures for the same seed', async () => {
    const { csv } = populationCsv(600, 9);
    const a = await run(csv, ['--label', 'purchased', '--seed', '7']);
    const b = await run(csv, ['--label', 'purchased', '--seed', '7']);
    expect(a.out).toEqual(b.out);
  });

  it('reads numeric, boolean and categorical columns with missing values', () => {
    const table = readLabelledTable(
      'amount,returning,device,label\n12.5,yes,mobile,1\nNA,no,,false\n3,,"desktop, wide",TRUE\n',
      'label',
    );
    expect(table.columns).toEqual([
      { name: 'amount', kind: 'numeric', missing: 1 },
      { name: 'returning', kind: 'boolean', missing: 1 },
      { name: 'device', kind: 'categorical', missing: 1 },
    ]);
    expect(table.labels).toEqual([1, 0, 1]);
    expect(table.rows[2]).toEqual({ amount: 3, returning: null, device: 'desktop, wide' });
  });

  it('refuses a file without the label column, naming the columns it has', async () => {
    const { code, err } = await run('a,b\n1,0\n2,1\n', ['--label', 'purchased']);
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/no label column "purchased" in the header \(columns: a, b\)/);
  });

  it('refuses a label with one class only', async () => {
    const { code, err } = await run('a,y\n1,yes\n2,yes\n3,true\n', ['--label', 'y']);
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/one class only/);
  });

  it('refuses ragged rows, naming the line', async () => {
    const { code, err } = await run('a,b,y\n1,2,0\n3,1\n4,5,1\n', ['--label', 'y']);
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/ragged row at line 3: 2 fields where the header has 3/);
  });

  it('refuses a label that is not 0/1, true/false or yes/no, and too few rows of a class for the folds', async () => {
    const bad = await run('a,y\n1,0\n2,maybe\n', ['--label', 'y']);
    expect(bad.code).toBe(1);
    expect(bad.err.join('\n')).toMatch(/line 3: label "maybe" in column "y" is not 0\/1, true\/false or yes\/no/);
    const few = await run('a,y\n1,0\n2,1\n3,0\n4,1\n5,0\n', ['--label', 'y', '--folds', '3']);
    expect(few.code).toBe(1);
    expect(few.err.join('\n')).toMatch(/smaller class has 2 rows: stratified 3-fold cross-validation needs at least 3/);
  });

  it('answers usage errors with exit 2 and an unreadable file with exit 1', async () => {
    const out = { out: () => undefined, err: () => undefined };
    expect(await modelEvaluate(['--label', 'y'], out)).toBe(2);
    expect(await modelEvaluate(['--csv', join(dir, 'x.csv'), '--label', 'y', '--folds', '1'], out)).toBe(2);
    expect(await modelEvaluate(['--csv', join(dir, 'missing.csv'), '--label', 'y'], out)).toBe(1);
  });
});
