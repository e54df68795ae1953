/** Helpers for the adapter contract tests: a fake clock whose sleep advances it, and a capturing logger. */
import type { ProviderLog } from '@reclaim/providers/common';

export function fakeTime(start = Date.parse('2026-03-01T12:00:00Z')) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number): Promise<void> => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

export function captureLog(): ProviderLog & { readonly lines: string[] } {
  const lines: string[] = [];
  const push = (obj: object, msg: string) => lines.push(`${msg} ${JSON.stringify(obj)}`);
  return { lines, warn: push, info: push, debug: push };
}

/** Fails when any captured line contains one of the secrets or personal values. */
export function expectNoLeak(lines: readonly string[], secrets: readonly string[]): void {
  const joined = lines.join('\n');
  for (const s of secrets) expect(joined).not.toContain(s);
}
