/** Durations in configuration: an integer followed by a unit, e.g. `250ms`, `90s`, `15m`, `1h`, `3d`. */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;

export class InvalidDurationError extends Error {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(
      `Invalid duration ${JSON.stringify(input)}: ${reason}. Use an integer and a unit: ms, s, m, h or d (e.g. 90s, 15m, 1h, 3d)`,
    );
    this.name = 'InvalidDurationError';
  }
}

/** Parses one duration into milliseconds. Surrounding whitespace is allowed; fractions, signs and missing units are not. */
export function parseDuration(input: string): number {
  if (typeof input !== 'string') throw new InvalidDurationError(String(input), 'not a string');
  const text = input.trim();
  if (text === '') throw new InvalidDurationError(input, 'empty');
  const m = DURATION_PATTERN.exec(text);
  if (!m) {
    if (/^\d+$/.test(text)) throw new InvalidDurationError(input, 'missing unit');
    if (/^-/.test(text)) throw new InvalidDurationError(input, 'negative durations are not allowed');
    if (/^\d*\.\d+/.test(text)) throw new InvalidDurationError(input, 'fractions are not allowed');
    throw new InvalidDurationError(input, 'unknown format or unit');
  }
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (!Number.isSafeInteger(ms)) throw new InvalidDurationError(input, 'too large');
  return ms;
}

/** Parses a comma-separated list (`6h,24h,72h`) into milliseconds, in the given order. */
export function parseDurationList(input: string): number[] {
  if (typeof input !== 'string' || input.trim() === '') throw new InvalidDurationError(String(input), 'empty list');
  return input.split(',').map((part, i) => {
    try {
      return parseDuration(part);
    } catch (e) {
      if (e instanceof InvalidDurationError) {
        throw new InvalidDurationError(input, `item ${i + 1} (${JSON.stringify(part.trim())}): ${e.message}`);
      }
      throw e;
    }
  });
}
