/**
 * Milliseconds to wait from a `Retry-After` value (delta seconds, fractions allowed, or an HTTP
 * date) as of `now`; never negative. `undefined` when absent or unreadable.
 */
export function retryAfterMs(value: string | undefined, now: number | Date): number | undefined {
  const v = value?.trim();
  if (v === undefined || v === '') return undefined;
  if (/^\d{1,9}(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - (typeof now === 'number' ? now : now.getTime()));
}
