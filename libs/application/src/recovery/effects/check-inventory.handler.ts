import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  alternativeItem,
  chooseAlternative,
  DEFAULT_ALTERNATIVE_RULES,
  MAX_ALTERNATIVE_CANDIDATES,
  type RecoveryItem,
  type SoldOutLine,
  type StockLine,
} from '@reclaim/domain';
import { describeProviderError, PermanentProviderError, type RecoveryShop } from '@reclaim/ports';
import { CheckInventory, type InventoryOutcome } from './effect-commands';
import { outsideRetryDelayMs } from './effect-deps';
import { EffectContext } from './effect-context';

/**
 * Stock, current prices and alternatives of the cart's lines from the store (`CommercePort.stock`).
 * A store that refuses for good keeps the items as they are; any other failure (unreachable,
 * 5xx, rate limited, an error of our own on the way) defers the step as `store-unavailable` with
 * words on what happened, for a wait that grows with each consecutive deferral of the step.
 *
 * For each line the store cannot sell, its suggestions (`CommercePort.alternatives`, each with the
 * stock and price the store answers for it) are weighed by the pure `chooseAlternative`; the line
 * then carries the alternative, or none and is announced as sold out. A failing suggestion lookup
 * does not hold the step: the line is announced as sold out and `lookup: failed` with the store's
 * words goes on the record (the failure is counted in `reclaim_provider_errors_total` like every
 * store call). Lines already answered for this request are read back from the record instead.
 */
@CommandHandler(CheckInventory)
export class CheckInventoryHandler implements ICommandHandler<CheckInventory> {
  constructor(@Inject(EffectContext) private readonly ctx: EffectContext) {}

  async execute({ shop, items, context, rules, recorded }: CheckInventory): Promise<InventoryOutcome> {
    let lines: StockLine[];
    try {
      lines = await this.ctx.deps.commerce.stock(shop, items);
    } catch (err) {
      if (err instanceof PermanentProviderError) {
        // The store refuses for good (token revoked, shop closed): the items are kept as they are.
        this.ctx.deps.log?.warn({ ...context, error: describeProviderError(err) }, 'stock lookup refused: items kept');
        return { kind: 'skipped', reason: 'store-refused', lines: [] };
      }
      const retryAfterMs = (err as { retryAfterMs?: unknown }).retryAfterMs;
      const waitMs = outsideRetryDelayMs(
        this.ctx.deps,
        context.deferrals,
        typeof retryAfterMs === 'number' ? retryAfterMs : undefined,
      );
      return {
        kind: 'deferred',
        until: new Date(this.ctx.now().getTime() + waitMs),
        reason: 'store-unavailable',
        detail: storeProblem(err, shop.apiUrl),
      };
    }
    const known = new Map(recorded.map((l) => [l.lineId, l]));
    const soldOut: SoldOutLine[] = [];
    const out: StockLine[] = [];
    for (const line of lines) {
      const item = items.find((i) => i.lineId === line.lineId);
      if (line.available || item === undefined) {
        out.push(line);
        continue;
      }
      const answer =
        known.get(line.lineId) ??
        (await this.soldOutLine(shop, item, items, rules ?? DEFAULT_ALTERNATIVE_RULES, context));
      soldOut.push(answer);
      const alternative = alternativeItem(answer);
      out.push({ ...line, ...(alternative !== undefined ? { alternative } : {}) });
    }
    return { kind: 'checked', lines: out, soldOut };
  }

  private async soldOutLine(
    shop: RecoveryShop,
    item: RecoveryItem,
    items: readonly RecoveryItem[],
    rules: NonNullable<CheckInventory['rules']>,
    context: CheckInventory['context'],
  ): Promise<SoldOutLine> {
    const base = {
      lineId: item.lineId,
      productId: item.productId,
      ...(item.variantId !== undefined ? { variantId: item.variantId } : {}),
      ...(item.title !== undefined ? { title: item.title } : {}),
      quantity: item.quantity,
    };
    try {
      const candidates = await this.ctx.deps.commerce.alternatives(shop, item, MAX_ALTERNATIVE_CANDIDATES);
      const { alternative, considered } = chooseAlternative(item, candidates, items, rules);
      return {
        ...base,
        lookup: candidates.length > 0 ? 'found' : 'none',
        considered,
        ...(alternative !== undefined ? { alternative } : {}),
      };
    } catch (err) {
      const detail = storeProblem(err, shop.apiUrl);
      this.ctx.deps.log?.warn(
        { ...context, lineId: item.lineId, detail },
        'alternatives lookup failed: announced as sold out',
      );
      return { ...base, lookup: 'failed', detail, considered: [] };
    }
  }
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);
const TIMEOUT_CODES = new Set([
  'timeout',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * What the store API did, in words for the customer history and the dashboard: the host of the
 * shop's apiUrl (the merchant's own configuration, never a customer's) and the code, never a
 * token or a response body.
 */
export function storeProblem(err: unknown, apiUrl: string): string {
  const raw = (err as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' ? raw : undefined;
  let host = 'the store';
  try {
    host = new URL(apiUrl).host || host;
  } catch {
    // an apiUrl that is not a URL: named by its code only
  }
  if (code !== undefined && DNS_CODES.has(code)) return `store API unreachable (getaddrinfo ${code} ${host})`;
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return `store API unreachable (${code} ${host})`;
  if (code !== undefined && TIMEOUT_CODES.has(code)) return `store API did not answer in time (${code} ${host})`;
  if (code === 'EREFUSED_OUTBOUND') return `store API address refused by the outbound guard (${host})`;
  if (code === '429' || code === 'quota-exhausted' || code === 'THROTTLED') return `store API rate limit (${code})`;
  if (code !== undefined && /^\d{3}$/.test(code)) return `store API answered ${code} (${host})`;
  return `store API error (${describeProviderError(err)}${code !== undefined && !describeProviderError(err).includes(code) ? ` ${code}` : ''})`;
}
