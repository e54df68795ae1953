/**
 * The typed errors every outside call answers with. Adapters (store APIs, e-mail, SMS, tickets,
 * marketing profiles) throw them; the recovery engine decides from the class alone whether to
 * retry, reschedule, reconcile or give up. Messages carry an operation name and a status, never
 * personal data.
 */

/** The provider refused for now (429, 5xx, connection refused before sending): try again later. */
export class RetryableProviderError extends Error {
  constructor(
    message: string,
    /** From `Retry-After`, when the provider sent one. */
    readonly retryAfterMs?: number,
    /** HTTP status or provider code, recorded in events (never personal data). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RetryableProviderError';
  }
}

/** The provider refused for good (400, invalid recipient, account suspended): do not retry. */
export class PermanentProviderError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'PermanentProviderError';
  }
}

/**
 * The recipient has opted out at the provider (Twilio 21610: replied STOP). Permanent for this
 * message; the engine records a channel opt-out for the customer and skips, never retries.
 */
export class RecipientOptedOutError extends PermanentProviderError {
  constructor(message: string, code: string) {
    super(message, code);
    this.name = 'RecipientOptedOutError';
  }
}

/** The request went out but no answer came back (timeout, reset after sending): it may have been delivered. */
export class ProviderOutcomeUnknownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderOutcomeUnknownError';
  }
}

/** What may be recorded about a provider error: its class and code, never its message (may echo an address). */
export function describeProviderError(err: unknown): string {
  if (err instanceof RetryableProviderError || err instanceof PermanentProviderError) {
    return err.code !== undefined ? `${err.name}:${err.code}` : err.name;
  }
  if (err instanceof Error) return err.name;
  return 'UnknownError';
}

/**
 * The store cannot create discount codes (no store adapter yet, or the API token lacks the scope):
 * the message goes out without a discount and the outcome records `discountWithheld:
 * 'discount-unavailable'` — never an invented code the store would reject.
 */
export class DiscountUnavailableError extends Error {
  constructor(message = 'discount codes cannot be created for this shop') {
    super(message);
    this.name = 'DiscountUnavailableError';
  }
}

/** Codes of a call that never reached the other side (name not resolved, refused, unreachable, timed out connecting). */
const UNREACHABLE_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'timeout',
  // nodemailer's (the SMTP adapter's codes are `smtp-<code>`)
  'ECONNECTION',
  'ESOCKET',
  'EDNS',
]);

/**
 * The `kind` label of `reclaim_provider_errors_total` for an error an outside call threw (bounded:
 * `unreachable`, `refused-address`, `rate-limited`, `retryable`, `opted-out`, `permanent`,
 * `outcome-unknown`, `error`); `undefined` for what is not an outside failure (a store that cannot
 * make discount codes at all).
 */
export function providerErrorKind(err: unknown): string | undefined {
  if (err instanceof DiscountUnavailableError) return undefined;
  const raw = (err as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' ? raw.replace(/^smtp-/, '') : raw;
  if (code === 'EREFUSED_OUTBOUND') return 'refused-address';
  if (err instanceof RetryableProviderError) {
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return 'unreachable';
    if (code === '429' || code === 'quota-exhausted' || code === 'THROTTLED') return 'rate-limited';
    return 'retryable';
  }
  if (err instanceof RecipientOptedOutError) return 'opted-out';
  if (err instanceof PermanentProviderError) return 'permanent';
  if (err instanceof ProviderOutcomeUnknownError) return 'outcome-unknown';
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return 'unreachable';
  return 'error';
}
