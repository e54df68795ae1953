import {
  alternativeItem,
  alternativeLineId,
  chooseAlternative,
  type AlternativeCandidate,
  type SoldOutLine,
} from '../alternatives';
import { summarizeDecision } from '../outcomes';
import { checkBeforeSend, type SendCheckContext } from '../pre-send';

const tote = { lineId: 'l1', productId: '632910393', variantId: '808950811', quantity: 2, unitPrice: '24.50' };
const ipod = { lineId: 'l2', productId: '632910392', variantId: '808950810', quantity: 1, unitPrice: '199.00' };

const candidate = (overrides: Partial<AlternativeCandidate> = {}): AlternativeCandidate => ({
  productId: '900',
  variantId: '9001',
  title: 'Linen tote',
  available: true,
  unitPrice: '26.00',
  source: 'recommendations',
  ...overrides,
});

describe('chooseAlternative: the store’s suggestions weighed like a shop assistant would', () => {
  it('offers the first suggestion in the store’s order that is in stock and priced within the rule', () => {
    const { alternative, considered } = chooseAlternative(
      tote,
      [
        candidate({ productId: '901', available: false }),
        candidate({ productId: '902', unitPrice: '29.41' }), // 24.50 × 1.2 = 29.40
        candidate({ productId: '903', unitPrice: '29.40', title: 'Canvas bag' }),
        candidate({ productId: '904' }),
      ],
      [tote, ipod],
    );
    expect(alternative).toEqual(
      expect.objectContaining({ productId: '903', title: 'Canvas bag', unitPrice: '29.40', source: 'recommendations' }),
    );
    expect(considered.map((c) => [c.productId, c.verdict])).toEqual([
      ['901', 'out-of-stock'],
      ['902', 'price-too-high'],
      ['903', 'offered'],
      ['904', 'not-needed'],
    ]);
  });

  it('never offers the line’s own product, a product already in the cart, an unpriced or an unusable one', () => {
    const { alternative, considered } = chooseAlternative(
      tote,
      [
        candidate({ productId: tote.productId }),
        candidate({ productId: ipod.productId }),
        candidate({ productId: '905', unitPrice: undefined }),
        candidate({ productId: '906', unitPrice: 'abc' }),
        candidate({ productId: '907', unusable: 'variable-product' }),
      ],
      [tote, ipod],
    );
    expect(alternative).toBeUndefined();
    expect(considered.map((c) => c.verdict)).toEqual([
      'same-product',
      'already-in-cart',
      'no-price',
      'no-price',
      'unusable',
    ]);
    expect(considered[4]).toEqual(expect.objectContaining({ detail: 'variable-product' }));
  });

  it('follows the shop’s price rule, and a line without a valid price of its own gets no alternative', () => {
    const pricey = [candidate({ unitPrice: '36.75' })]; // +50%
    expect(chooseAlternative(tote, pricey, [tote]).alternative).toBeUndefined();
    expect(chooseAlternative(tote, pricey, [tote], { maxPriceIncreasePercent: 50 }).alternative?.unitPrice).toBe(
      '36.75',
    );
    expect(chooseAlternative({ ...tote, unitPrice: 'n/a' }, [candidate()], [tote]).considered[0]?.verdict).toBe(
      'price-too-high',
    );
  });
});

describe('a sold-out line in the send decision', () => {
  const soldOut = (alternative = true): SoldOutLine => ({
    lineId: tote.lineId,
    productId: tote.productId,
    variantId: tote.variantId,
    quantity: tote.quantity,
    lookup: 'found',
    considered: [],
    ...(alternative
      ? {
          alternative: {
            productId: '903',
            variantId: '9031',
            title: 'Canvas bag',
            unitPrice: '26.00',
            source: 'related' as const,
          },
        }
      : {}),
  });

  const ctx = (stock: SendCheckContext['stock']): SendCheckContext => ({
    recoveryId: 'recovery-s-c',
    step: { index: 0, delayMs: 0, channels: ['email'], discountPercent: 0, template: 'welcome-0' },
    mode: { kind: 'live' },
    now: '2026-03-02T16:00:00.000Z',
    dueAt: '2026-03-02T16:00:00.000Z',
    abandonedAt: '2026-03-02T15:00:00.000Z',
    startedAt: '2026-03-02T15:00:00.000Z',
    purchased: false,
    reach: { email: true, sms: false },
    revokedChannels: [],
    consent: { email: { status: 'subscribed', source: 'shopify:checkout' } },
    ignoredRecoveryMessages: 0,
    ticketOpen: false,
    shopTimeZone: 'UTC',
    currency: 'USD',
    items: [tote, ipod],
    stock,
  });

  it('is replaced by its alternative at the line’s quantity and the store’s price, and the summary records it', () => {
    const item = alternativeItem(soldOut());
    expect(item).toEqual({
      lineId: alternativeLineId('l1'),
      productId: '903',
      variantId: '9031',
      title: 'Canvas bag',
      quantity: 2,
      unitPrice: '26.00',
    });
    const result = checkBeforeSend(ctx([{ lineId: 'l1', available: false, ...(item ? { alternative: item } : {}) }]));
    if (result.decision !== 'send') throw new Error(`expected a send, got ${result.decision}`);
    expect(result.items.map((i) => [i.productId, i.quantity, i.unitPrice, i.replacesLineId])).toEqual([
      ['903', 2, '26.00', 'l1'],
      [ipod.productId, 1, '199.00', undefined],
    ]);
    expect(result.cartValue).toBe('251.00');
    expect(result.leftOut).toEqual([]);
    expect(summarizeDecision(result).replaced).toEqual([{ lineId: 'l1', productId: '903', variantId: '9031' }]);
  });

  it('without an alternative is left out (announced as sold out), and the summary names no replacement', () => {
    expect(alternativeItem(soldOut(false))).toBeUndefined();
    const result = checkBeforeSend(ctx([{ lineId: 'l1', available: false }]));
    if (result.decision !== 'send') throw new Error(`expected a send, got ${result.decision}`);
    expect(result.leftOut).toEqual(['l1']);
    expect(summarizeDecision(result).replaced).toBeUndefined();
  });
});
