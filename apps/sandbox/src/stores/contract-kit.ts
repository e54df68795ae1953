import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RecoveryShop } from '@reclaim/ports';
import type { StoreHttpOptions } from '@reclaim/platforms/commerce';

/** Test support for the store contract suites (no jest globals here: usable by the simulator too). */

/** A clock shared by a stand-in and an adapter: the adapter's injected sleep moves it forward. */
export class TestClock {
  private ms: number;
  readonly sleeps: number[] = [];
  constructor(start = '2030-01-01T12:00:00.000Z') {
    this.ms = Date.parse(start);
  }
  now = (): Date => new Date(this.ms);
  sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.ms += ms;
  };
}

/** Adapter options for contract tests: injected clock and sleep, no jitter, a short timeout for hang faults. */
export function adapterOptions(clock: TestClock, overrides: StoreHttpOptions = {}): StoreHttpOptions {
  return { sleep: clock.sleep, now: clock.now, random: () => 1, timeoutMs: 400, baseDelayMs: 100, ...overrides };
}

export function testShop(platform: string, apiUrl: string, apiToken: string): RecoveryShop {
  return {
    id: '6f1c3c2e-0d5b-4a53-9a43-2b1e4b7a9c01',
    platform,
    shopDomain: `${platform}.example.com`,
    currency: 'USD',
    timezone: 'UTC',
    apiUrl,
    apiToken,
  };
}

/** `../shared/fixtures` next to the repository, when present. */
export const FIXTURES = path.resolve(__dirname, '../../../..', '../shared/fixtures');
export const hasFixtures = existsSync(FIXTURES);
export function readFixture(rel: string): unknown {
  return JSON.parse(readFileSync(path.join(FIXTURES, rel), 'utf8'));
}

/** Keys of `fixture` (recursively into objects) missing from `actual`: a stand-in answer must carry the documented shape. */
export function missingKeys(fixture: unknown, actual: unknown, at = '$'): string[] {
  if (typeof fixture !== 'object' || fixture === null || Array.isArray(fixture)) return [];
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return [at];
  const a = actual as Record<string, unknown>;
  return Object.entries(fixture as Record<string, unknown>).flatMap(([k, v]) =>
    k in a ? missingKeys(v, a[k], `${at}.${k}`) : [`${at}.${k}`],
  );
}
