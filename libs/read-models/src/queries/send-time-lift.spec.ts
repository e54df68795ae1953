import { sendTimeLift } from './dashboard';

describe('sendTimeLift: recovery rate on the send-time on arm vs the off arm', () => {
  it('below the minimum in either arm: not enough data yet, with the counts', () => {
    expect(sendTimeLift({ carts: 40, recovered: 8 }, { carts: 29, recovered: 3 })).toEqual({
      status: 'not enough data yet',
      onCarts: 40,
      offCarts: 29,
      minimum: 30,
    });
  });

  it('the difference of the two rates with its 95 % interval (normal approximation)', () => {
    const r = sendTimeLift({ carts: 400, recovered: 60 }, { carts: 400, recovered: 40 });
    if (r.status !== 'ok') throw new Error('expected ok');
    expect(r.onRecoveryRate).toBeCloseTo(0.15, 12);
    expect(r.offRecoveryRate).toBeCloseTo(0.1, 12);
    const se = Math.sqrt((0.15 * 0.85) / 400 + (0.1 * 0.9) / 400);
    expect(r.recoveryRateLift.estimate).toBeCloseTo(0.05, 12);
    expect(r.recoveryRateLift.low).toBeCloseTo(0.05 - 1.959963984540054 * se, 12);
    expect(r.recoveryRateLift.high).toBeCloseTo(0.05 + 1.959963984540054 * se, 12);
  });
});
