import { foldEvents } from '../shared/decider';
import type { RecordCodeFarmingCommand } from './customer.messages';
import { customerDecider } from './customer.decider';

const evidence = (n: number) => ({
  codePurchases: Array.from({ length: n }, (_, i) => ({
    recoveryId: `recovery-shop-1-cart-${i}`,
    orderId: `o-${i}`,
    code: `RECLAIM-${i}`,
    placedAt: `2026-0${i + 1}-01T00:00:00.000Z`,
  })),
  orders: n,
  codeOrderShare: 1,
  windowDays: 180,
  minCodePurchases: 2,
  minCodeOrderShare: 0.5,
});
const command = (n: number, causationId = `req-${n}`): RecordCodeFarmingCommand => ({
  type: 'RecordCodeFarming',
  shopId: 'shop-1',
  customerKey: 'e-abc',
  causationId,
  receivedAt: '2026-06-01T00:00:00.000Z',
  evidence: evidence(n),
});

describe('customer.code-farming-detected', () => {
  it('records the detection with its evidence on the customer stream, once per new evidence', () => {
    const first = customerDecider.decide(command(2), customerDecider.initialState());
    expect(first).toMatchObject([
      { type: 'customer.code-farming-detected', data: { customerKey: 'e-abc', evidence: { orders: 2 } } },
    ]);
    const state = foldEvents(customerDecider, first);
    expect(state.codeFarming).toEqual({ detectedAt: '2026-06-01T00:00:00.000Z', codePurchases: 2 });
    // The same evidence again (another step of the same customer) adds nothing; a new code purchase does.
    expect(customerDecider.decide(command(2, 'req-other'), state)).toEqual([]);
    expect(customerDecider.decide(command(3), state)).toHaveLength(1);
  });

  it('refuses empty evidence, naming the field', () => {
    expect(() => customerDecider.decide(command(0), customerDecider.initialState())).toThrow(/evidence\.codePurchases/);
  });
});
