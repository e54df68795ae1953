/**
 * Support-aware copy, the I/O half: the customer's own open tickets are read from the help desk
 * (one attempt, short timeout), read against the recovery's cart (`readCustomerTickets`: which
 * products, the cart or an order they name — only the verdict, never the words, is kept) and
 * recorded on the recovery stream as `RecordSupportLookup`. The decision then reads the record:
 * replays and rebuilds never call the help desk. A lookup that fails is recorded too, with its
 * reason (history) and counted (`reclaim_support_lookups_total`, `reclaim_provider_errors_total`).
 */
import {
  readCustomerTickets,
  type RecoveryInput,
  type RecoveryState,
  type SupportLookupFailure,
  type SupportLookupResult,
  type SupportLookupTrigger,
} from '@reclaim/domain';
import {
  type CustomerTicketLookup,
  describeProviderError,
  PermanentProviderError,
  RetryableProviderError,
} from '@reclaim/ports';

/** The reason recorded for a failed lookup (never the error's message: it can echo an address). */
export function supportLookupFailureOf(err: unknown): { reason: SupportLookupFailure; code?: string } {
  const raw = (err as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' ? raw.replace(/[^a-z0-9_.:-]/gi, '').slice(0, 64) : undefined;
  const withCode = (reason: SupportLookupFailure) => ({ reason, ...(code ? { code } : {}) });
  if (err instanceof RetryableProviderError) {
    return withCode(code !== undefined && /timeout|timed.?out|abort/i.test(code) ? 'timeout' : 'unavailable');
  }
  if (err instanceof PermanentProviderError) return withCode(code === 'bad-response' ? 'bad-response' : 'refused');
  return { reason: 'unavailable', code: describeProviderError(err).slice(0, 64) };
}

/**
 * Asks the help desk for the customer's open tickets and reads them against the recovery's cart:
 * the input to record (`undefined` when there is no cart to read them against).
 */
export async function lookUpCustomerTickets(
  lookup: CustomerTicketLookup,
  email: string | undefined,
  state: RecoveryState,
  match: 'mentions' | 'any',
  at: () => Date,
  context: { readonly trigger: SupportLookupTrigger; readonly step?: number },
): Promise<Extract<RecoveryInput, { type: 'RecordSupportLookup' }> | undefined> {
  const cart = state.cart;
  if (cart === undefined || state.cartId === undefined) return undefined;
  let result: SupportLookupResult;
  if (email === undefined || email === '') {
    result = { kind: 'unavailable', reason: 'no-email' };
  } else {
    try {
      result = readCustomerTickets(await lookup.openTicketsOf(email), cart, state.cartId, match);
    } catch (err) {
      result = { kind: 'unavailable', ...supportLookupFailureOf(err) };
    }
  }
  return {
    type: 'RecordSupportLookup',
    at: at().toISOString(),
    source: lookup.desk,
    trigger: context.trigger,
    ...(context.step !== undefined ? { step: context.step } : {}),
    result,
  };
}
