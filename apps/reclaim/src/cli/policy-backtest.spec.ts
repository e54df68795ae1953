import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePolicyFile, InvalidPolicyFileError } from '@reclaim/application';
import { defaultRecoveryConfig, defaultSequences } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import { policyBacktest } from './policy-backtest';

const SHOP = '5d3b3c1e-5d4e-4f53-9a51-0e4b8c1f2a10';
const catalogue = { sequences: defaultSequences(defaultRecoveryConfig).sequences };

function errorsOf(text: string): string[] {
  try {
    parsePolicyFile(text);
  } catch (err) {
    if (err instanceof InvalidPolicyFileError) return err.errors.map((e) => `${e.field}: ${e.message}`);
    throw err;
  }
  return [];
}

describe('policy files', () => {
  it('accepts a catalogue as PUT /api/shops/:id/sequences takes it, with or without settings', () => {
    expect(parsePolicyFile(JSON.stringify({ catalogue })).settings).toEqual({});
    const p = parsePolicyFile(
      JSON.stringify({ catalogue, settings: { holdoutPercent: 5, sendTime: { enabled: true } } }),
    );
    expect(p.catalogue.version).toBe(1);
    expect(p.settings.sendTime).toEqual({ enabled: true });
  });

  it('names every bad field, with the catalogue and settings validators the API uses', () => {
    const bad = {
      catalogue: {
        sequences: [
          { ...catalogue.sequences[0], steps: [{ ...catalogue.sequences[0].steps[0], delayMs: -1 }] },
          { id: 'last', version: 1, match: { anySegments: ['returning'] }, steps: catalogue.sequences[2].steps },
        ],
      },
      settings: { holdoutPercent: 140, sendTime: { armPercent: 'half' }, colour: 'red' },
      extra: true,
    };
    expect(errorsOf(JSON.stringify(bad))).toEqual([
      'extra: is not part of a policy (catalogue, settings)',
      'catalogue.sequences[0].steps[0].delayMs: must be a non-negative integer (milliseconds)',
      'catalogue.sequences[1].match: the last sequence must be a catch-all (empty match) so every cart gets a sequence',
      'settings.colour: is not a setting',
      'settings.holdoutPercent: must be a number from 0 to 100',
      'settings.sendTime.armPercent: must be a number from 0 to 100',
    ]);
  });

  it('refuses what is not a policy at all', () => {
    expect(errorsOf('{"catalogue": ')[0]).toMatch(/^\(file\): is not JSON/);
    expect(errorsOf('[]')).toEqual(['(file): must be a JSON object { catalogue, settings }']);
    expect(errorsOf('{}')).toEqual([
      'catalogue: must be { "sequences": [...] } as PUT /api/shops/:id/sequences takes it',
    ]);
    expect(errorsOf('{"catalogue": {"sequences": [3]}}')).toEqual(['catalogue.sequences[0]: must be an object']);
    expect(errorsOf(JSON.stringify({ catalogue, settings: [] }))).toEqual(['settings: must be a JSON object']);
  });
});

describe('policy backtest command', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reclaim-policy-cli-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const emptyStore = { readAll: async () => [] } as unknown as EventStore;
  async function run(args: string[], policy?: string) {
    const file = join(dir, `p${Math.random().toString(36).slice(2)}.json`);
    if (policy !== undefined) await writeFile(file, policy);
    const out: string[] = [];
    const err: string[] = [];
    const code = await policyBacktest(
      [...args, '--policy', file, '--out-md', join(dir, 'r.md'), '--out-json', join(dir, 'r.json')],
      {
        store: emptyStore,
        shopConfig: async (id) => (id === SHOP ? defaultRecoveryConfig : undefined),
        now: new Date(),
      },
      { out: (l) => out.push(l), err: (l) => err.push(l) },
    );
    return { code, out, err };
  }

  it('exits 2 on a bad policy file, listing its fields', async () => {
    const r = await run(
      ['--shop', SHOP, '--from', '2026-01-01', '--to', '2026-02-01'],
      '{"catalogue": {"sequences": []}}',
    );
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/is not a valid policy:$/);
    expect(r.err[1]).toBe('  catalogue.sequences: must be a non-empty list of sequence definitions');
  });

  it('exits 2 on bad dates or thresholds, 1 on an unreadable file or an unknown shop', async () => {
    const policy = JSON.stringify({ catalogue });
    expect((await run(['--shop', SHOP, '--from', 'yesterday', '--to', '2026-02-01'], policy)).err).toEqual([
      '--from must be a date such as 2026-05-01 or an ISO timestamp, not "yesterday"',
    ]);
    expect((await run(['--shop', SHOP, '--from', '2026-03-01', '--to', '2026-02-01'], policy)).err).toEqual([
      '--to must be after --from',
    ]);
    expect(
      (await run(['--shop', SHOP, '--from', '2026-01-01', '--to', '2026-02-01', '--max-unsupported', '2'], policy))
        .code,
    ).toBe(2);
    expect((await run(['--shop', SHOP, '--from', '2026-01-01', '--to', '2026-02-01'])).code).toBe(1);
    const unknown = await run(
      ['--shop', '00000000-0000-4000-8000-000000000000', '--from', '2026-01-01', '--to', '2026-02-01'],
      policy,
    );
    expect(unknown).toMatchObject({ code: 1, err: ['no shop 00000000-0000-4000-8000-000000000000'] });
  });

  it('refuses an empty log with exit 3 and the reason', async () => {
    const r = await run(['--shop', SHOP, '--from', '2026-01-01', '--to', '2026-02-01'], JSON.stringify({ catalogue }));
    expect(r.code).toBe(3);
    expect(r.err).toEqual([
      'refused (too-few-recoveries): 0 settled recoveries with logged propensities in the window; at least 100 are needed',
    ]);
  });
});
