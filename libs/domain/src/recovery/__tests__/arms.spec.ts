import { armProbabilities, drawArm, recoveryArm } from '../arms';
import { upcastEvent } from '../../events/upcasters';

describe('the arm draw', () => {
  const settings = { holdoutPercent: 20, rolloutPercent: 50, shadowMode: false };

  it('draws holdout below the holdout share, then live or outside-rollout from the rescaled draw', () => {
    expect(drawArm(settings, 0.1)).toMatchObject({ holdout: true, arm: 'holdout', propensity: 0.2 });
    expect(drawArm(settings, 0.5)).toMatchObject({ holdout: false, arm: 'live-treated', mode: { kind: 'live' } });
    expect(drawArm(settings, 0.5).propensity).toBeCloseTo(0.4);
    expect(drawArm(settings, 0.95)).toMatchObject({ arm: 'outside-rollout' });
    expect(drawArm(settings, 0.95).propensity).toBeCloseTo(0.4);
    expect(drawArm({ ...settings, shadowMode: true }, 0.5)).toMatchObject({ arm: 'shadow', propensity: 0.8 });
  });

  it('draws each arm with the probability it reports (10,000 draws on a grid)', () => {
    const p = armProbabilities({ holdoutPercent: 10, rolloutPercent: 70, shadowMode: false });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) {
      const a = drawArm({ holdoutPercent: 10, rolloutPercent: 70, shadowMode: false }, (i + 0.5) / 10_000).arm;
      counts[a] = (counts[a] ?? 0) + 1;
    }
    for (const [arm, n] of Object.entries(counts)) expect(n / 10_000).toBeCloseTo(p[arm as keyof typeof p], 3);
    expect(Object.values(p).reduce((a, b) => a + b, 0)).toBeCloseTo(1);
  });

  it('keeps the v1 rule, and upcasts recovery.started v2 with the propensity not logged', () => {
    expect(recoveryArm(false, { kind: 'shadow', reason: 'outside-rollout' })).toBe('outside-rollout');
    const v2 = {
      type: 'recovery.started',
      schemaVersion: 2,
      data: { holdout: false, mode: { kind: 'live' }, arm: 'live-treated', random: 0.4 },
    };
    expect(upcastEvent(v2)).toEqual({
      type: 'recovery.started',
      schemaVersion: 3,
      data: { ...v2.data, propensity: null, holdoutPercent: null, rolloutPercent: null },
    });
  });
});
