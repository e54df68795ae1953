import { defaultRecoveryConfig, recoveryConfig } from '../config';
import { candidateDistribution, loggedAction, loggedDistribution, type LoggedStart } from '../policy-actions';
import { defaultSequences } from '../sequences';

const catalogue = defaultSequences(defaultRecoveryConfig);
const welcome = catalogue.sequences[2];
const live: LoggedStart = {
  segments: ['new'],
  cartValue: '50.00',
  arm: 'live-treated',
  armSettings: { holdoutPercent: 20, rolloutPercent: 100, shadowMode: false },
  sequence: welcome,
  sendTimeDraw: { enabled: true, armPercent: 25 },
  sendTimeArm: 'on',
};
const probabilities = (d: readonly { key: string; probability: number }[]) =>
  Object.fromEntries(
    d.map((a) => [a.key.replace(/^live .* (send-time:\w+)$/, 'live $1'), Math.round(a.probability * 1e12) / 1e12]),
  );

describe('policy actions', () => {
  it('the logged action and the logging policy’s probabilities at it', () => {
    expect(loggedAction(live)).toMatchObject({ treatment: 'live', sendTime: 'on', sequence: { id: 'welcome' } });
    expect(probabilities(loggedDistribution(live) ?? [])).toEqual({
      silent: 0.2,
      'live send-time:on': 0.2,
      'live send-time:off': 0.6,
    });
    expect(loggedAction({ ...live, arm: 'outside-rollout' })).toEqual({ treatment: 'silent' });
    expect(loggedDistribution({ ...live, armSettings: null })).toBeUndefined();
  });

  it('the candidate’s probabilities come from its own arm shares, catalogue and send-time switch', () => {
    const off = { config: recoveryConfig({ holdoutPercent: 0 }), catalogue };
    expect(probabilities(candidateDistribution(off, live))).toEqual({ 'live send-time:off': 1 });
    const shadow = { config: recoveryConfig({ shadowMode: true, holdoutPercent: 10 }), catalogue };
    expect(probabilities(candidateDistribution(shadow, live))).toEqual({ silent: 1 });
    // A high-value cart selects premium: not the action the log took for this recovery.
    const premium = candidateDistribution(off, { ...live, cartValue: '500.00' });
    expect(premium.map((a) => a.key)).not.toContain(loggedDistribution(live)?.[2].key);
  });

  it('two sequences that behave alike are one action; a changed delay is another', () => {
    const renamed = { ...catalogue, sequences: catalogue.sequences.map((s) => ({ ...s, version: 7 })) };
    const same = candidateDistribution({ config: recoveryConfig({}), catalogue: renamed }, live);
    const logged = loggedDistribution(live) ?? [];
    expect(same.filter((a) => a.action.treatment === 'live').every((a) => logged.some((l) => l.key === a.key))).toBe(
      true,
    );
    const slower = {
      ...catalogue,
      sequences: catalogue.sequences.map((s) => ({
        ...s,
        steps: s.steps.map((st) => ({ ...st, delayMs: st.delayMs + 1 })),
      })),
    };
    const other = candidateDistribution({ config: recoveryConfig({}), catalogue: slower }, live);
    expect(other.filter((a) => a.action.treatment === 'live').some((a) => logged.some((l) => l.key === a.key))).toBe(
      false,
    );
  });
});
