import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The boundaries of `.dependency-cruiser.cjs` can fail: one violation per rule is planted in a
 * throw-away folder inside the tree it guards, the whole tree is cruised as `npm run lint` does,
 * and each rule must fire for its plant — and only there (the real tree stays clean). The same run
 * checks that no two libraries import each other, even through different files.
 */
const ROOT = path.resolve(__dirname, '../..');
const PLANT_DIR = '__planted_violation__';

interface Plant {
  readonly rule: string;
  /** Folder (under the repository) the plant goes into; a `PLANT_DIR` folder is made there. */
  readonly dir: string;
  readonly files: Readonly<Record<string, string>>;
}

const PLANTS: readonly Plant[] = [
  {
    rule: 'domain-is-pure',
    dir: 'libs/domain/src',
    files: { 'a.ts': "export { DuplicateEventIdError } from '@reclaim/event-store/errors';\n" },
  },
  {
    rule: 'domain-no-node-io',
    dir: 'libs/domain/src/shared',
    files: { 'a.ts': "export { readFileSync } from 'fs';\n" },
  },
  {
    rule: 'learning-is-pure',
    dir: 'libs/learning/src',
    files: { 'a.ts': "export { readFileSync } from 'fs';\n" },
  },
  {
    rule: 'ports-are-contracts',
    dir: 'libs/ports/src',
    files: { 'a.ts': "export { request } from 'undici';\n" },
  },
  {
    rule: 'adapters-know-only-ports-and-domain',
    dir: 'libs/platforms/src',
    files: { 'a.ts': "export { RECLAIM_ID_NAMESPACE } from '@reclaim/application/ingestion/ids';\n" },
  },
  {
    rule: 'log-adapters-know-only-the-log-port',
    dir: 'libs/kafka/src',
    files: { 'a.ts': "export { DuplicateEventIdError } from '@reclaim/event-store/errors';\n" },
  },
  {
    rule: 'event-store-adapters-know-only-their-port',
    dir: 'libs/event-store/src/postgres',
    files: { 'a.ts': "export { EventStoreDBEventStore } from '../../eventstoredb/eventstoredb-event-store';\n" },
  },
  {
    rule: 'adapters-stay-apart',
    dir: 'libs/providers/src/smtp',
    files: { 'a.ts': "export { computeTwilioSignature } from '../../twilio/signature';\n" },
  },
  {
    rule: 'application-knows-no-adapter',
    dir: 'libs/application/src',
    files: { 'a.ts': "export { deviceFromUserAgent } from '@reclaim/platforms/common/device';\n" },
  },
  {
    rule: 'read-models-read-the-log',
    dir: 'libs/read-models/src',
    files: { 'a.ts': "export { RECLAIM_ID_NAMESPACE } from '@reclaim/application/ingestion/ids';\n" },
  },
  {
    rule: 'http-helper-knows-only-ports',
    dir: 'libs/http/src',
    files: { 'a.ts': "export { RECLAIM_ID_NAMESPACE } from '@reclaim/application/ingestion/ids';\n" },
  },
  {
    rule: 'libs-do-not-import-apps',
    dir: 'libs/privacy/src',
    files: { 'a.ts': "export * from '../../../../apps/reclaim/src/runtime/runtime.token';\n" },
  },
  {
    rule: 'no-dev-dependencies-in-production',
    dir: 'apps/reclaim/src',
    files: { 'a.ts': "import fc from 'fast-check';\nexport const planted = fc.integer();\n" },
  },
  {
    rule: 'no-circular',
    dir: 'libs/database/src',
    files: {
      'a.ts': "import { b } from './b';\nexport const a = (): number => b() + 1;\n",
      'b.ts': "import { a } from './a';\nexport const b = (): number => a() - 1;\n",
    },
  },
];

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}
interface CruiseResult {
  readonly modules: ReadonlyArray<{
    readonly source: string;
    readonly dependencies: ReadonlyArray<{ resolved: string }>;
  }>;
  readonly summary: { readonly violations: readonly Violation[] };
}

const plantFolder = (p: Plant): string => path.join(ROOT, p.dir, PLANT_DIR);

function removePlants(): void {
  for (const p of PLANTS) rmSync(plantFolder(p), { recursive: true, force: true });
}

const BIN = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

/** `depcruise` as `npm run lint` runs it, on `targets`; `json` adds the machine-readable report. */
function depcruise(targets: readonly string[], json: boolean) {
  return spawnSync(
    process.execPath,
    [BIN, '--config', '.dependency-cruiser.cjs', ...(json ? ['--output-type', 'json'] : []), ...targets],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
}

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  let status: number | null;
  let lintOutput: string;
  let result: CruiseResult;

  beforeAll(() => {
    removePlants();
    try {
      for (const p of PLANTS) {
        mkdirSync(plantFolder(p), { recursive: true });
        for (const [name, text] of Object.entries(p.files)) writeFileSync(path.join(plantFolder(p), name), text);
      }
      const report = depcruise(['apps', 'libs'], true);
      if (report.stdout.trim() === '') throw new Error(`dependency-cruiser printed nothing: ${report.stderr}`);
      result = JSON.parse(report.stdout) as CruiseResult;
      // The lint run's own output and exit code, on one plant (fast: it follows that plant's imports only).
      const lint = depcruise([`libs/read-models/src/${PLANT_DIR}`], false);
      status = lint.status;
      lintOutput = lint.stdout;
    } finally {
      removePlants();
    }
  }, 120_000);

  afterAll(removePlants);

  it('fails the lint run (non-zero exit) when a rule is broken, naming the rule', () => {
    expect(status).not.toBe(0);
    expect(lintOutput).toContain('read-models-read-the-log');
  });

  it.each(PLANTS.map((p) => [p.rule, p] as const))('%s fires on its planted violation', (_rule, plant) => {
    const prefix = `${plant.dir}/${PLANT_DIR}/`;
    const fired = result.summary.violations.filter((v) => v.from.startsWith(prefix)).map((v) => v.rule.name);
    expect(fired).toContain(plant.rule);
  });

  it('finds no violation outside the plants: the real tree keeps every rule', () => {
    const real = result.summary.violations.filter((v) => !v.from.includes(`/${PLANT_DIR}/`));
    expect(real.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });

  it('has no import cycle between libraries (production code)', () => {
    const libOf = (file: string): string | undefined => /^libs\/([^/]+)\//.exec(file)?.[1];
    const production = (file: string): boolean =>
      !file.includes(`/${PLANT_DIR}/`) && !/(\.spec\.ts$|^libs\/testing\/|\/testing\/|\/contract\/)/.test(file);
    const edges = new Map<string, Set<string>>();
    for (const m of result.modules) {
      const from = libOf(m.source);
      if (from === undefined || !production(m.source)) continue;
      for (const d of m.dependencies) {
        const to = libOf(d.resolved);
        if (to === undefined || to === from) continue;
        edges.set(from, (edges.get(from) ?? new Set()).add(to));
      }
    }
    const reaches = (start: string, goal: string, seen = new Set<string>()): boolean => {
      for (const next of edges.get(start) ?? []) {
        if (next === goal) return true;
        if (!seen.has(next) && (seen.add(next), reaches(next, goal, seen))) return true;
      }
      return false;
    };
    const cycles = [...edges.keys()].filter((lib) => reaches(lib, lib));
    expect(edges.get('application')?.has('ports')).toBe(true); // the graph was read
    expect(cycles).toEqual([]);
  });
});
