import type { CommercePort, DiscountCodeRequest, RecoveryShop } from '@reclaim/ports';
import type { AlternativeCandidate, RecoveryItem, StockLine } from '@reclaim/domain';
import { errorBefore, FaultPlan, timeoutAfter } from './faults';

/**
 * A store API double: stock and current prices per line id (lines not set are left out of the
 * answer, i.e. kept as they are), unique discount codes deduped by idempotency key.
 */
export class FakeCommerce implements CommercePort {
  readonly codes: (DiscountCodeRequest & { code: string })[] = [];
  readonly stockCalls: { shopId: string; lineIds: string[] }[] = [];
  readonly stockFaults = new FaultPlan();
  readonly discountFaults = new FaultPlan();
  readonly alternativeFaults = new FaultPlan();
  readonly alternativeCalls: { shopId: string; productId: string; limit: number }[] = [];
  private readonly suggestions = new Map<string, AlternativeCandidate[] | Error>();
  private readonly lines = new Map<string, Omit<StockLine, 'lineId'>>();
  private readonly byKey = new Map<string, string>();

  setStock(lineId: string, line: Omit<StockLine, 'lineId'>): this {
    this.lines.set(lineId, line);
    return this;
  }

  /** What the store suggests (with their stock and price) when `productId` cannot be sold; an Error is thrown instead. */
  setAlternatives(productId: string, candidates: AlternativeCandidate[] | Error): this {
    this.suggestions.set(productId, candidates);
    return this;
  }

  async alternatives(shop: RecoveryShop, item: RecoveryItem, limit: number): Promise<AlternativeCandidate[]> {
    this.alternativeCalls.push({ shopId: shop.id, productId: item.productId, limit });
    const fault = this.alternativeFaults.next();
    const before = fault ? errorBefore(fault) : undefined;
    if (before) throw before;
    if (fault) throw timeoutAfter();
    const answer = this.suggestions.get(item.productId) ?? [];
    if (answer instanceof Error) throw answer;
    return answer.slice(0, limit);
  }

  async stock(shop: RecoveryShop, items: readonly RecoveryItem[]): Promise<StockLine[]> {
    this.stockCalls.push({ shopId: shop.id, lineIds: items.map((i) => i.lineId) });
    const fault = this.stockFaults.next();
    const before = fault ? errorBefore(fault) : undefined;
    if (before) throw before;
    if (fault) throw timeoutAfter();
    return items.flatMap((i) => {
      const line = this.lines.get(i.lineId);
      return line ? [{ lineId: i.lineId, ...line }] : [];
    });
  }

  async createDiscountCode(request: DiscountCodeRequest): Promise<{ code: string }> {
    const fault = this.discountFaults.next();
    const before = fault ? errorBefore(fault) : undefined;
    if (before) throw before;
    let code = this.byKey.get(request.idempotencyKey);
    if (code === undefined) {
      code = `RECLAIM-${request.percent}-${this.codes.length + 1}`;
      this.byKey.set(request.idempotencyKey, code);
      this.codes.push({ ...request, code });
    }
    if (fault?.kind === 'timeout-after') throw timeoutAfter();
    return { code };
  }
}
