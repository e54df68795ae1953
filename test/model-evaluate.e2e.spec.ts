/**
 * `npm run cli -- model evaluate` through the CLI's entry point, as an analyst runs it: figures on
 * a labelled CSV and exit 0; a bad file answered with a clear message and a non-zero exit.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');

function cli(args: string[]) {
  return spawnSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/reclaim/src/cli/main.ts', ...args],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
}

describe('npm run cli -- model evaluate', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reclaim-model-cli-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('prints AUC, Brier, ECE and the calibration table for a labelled CSV, or refuses a ragged one', async () => {
    // Purchase depends on the basket value and the source; the row order alternates the classes.
    const lines = ['value,source,returning,bought'];
    for (let i = 0; i < 200; i++) {
      const value = (i * 37) % 100;
      const source = ['email', 'search', 'social'][i % 3];
      const bought = value + (source === 'email' ? 30 : 0) + ((i * 53) % 41) > 90 ? 'yes' : 'no';
      lines.push(`${value},${source},${i % 4 === 0 ? '' : i % 2 === 0},${bought}`);
    }
    const good = join(dir, 'good.csv');
    await writeFile(good, lines.join('\n'));
    const ok = cli(['model', 'evaluate', '--csv', good, '--label', 'bought', '--folds', '5', '--seed', '3']);
    expect(ok.stderr).not.toMatch(/reclaim cli failed/);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^AUC\s+0\.\d{4}/m);
    expect(ok.stdout).toMatch(/^Brier\s+0\.\d{4}/m);
    expect(ok.stdout).toMatch(/^ECE\s+0\.\d{4}/m);
    expect(ok.stdout).toMatch(/^0\.9-1\.0\s+\d+/m);
    expect(Number(/^AUC\s+([0-9.]+)/m.exec(ok.stdout)?.[1])).toBeGreaterThan(0.8);

    const ragged = join(dir, 'ragged.csv');
    await writeFile(ragged, 'value,source,bought\n1,email,yes\n2,search\n');
    const bad = cli(['model', 'evaluate', '--csv', ragged, '--label', 'bought']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/ragged row at line 3: 2 fields where the header has 3/);
    expect(bad.stdout).toBe('');
  }, 240_000);
});
