import type { ProfileEnrichment } from '../enrichment';
import { segmentsFromEnrichment } from '../enrichment';
import { defaultRecoveryConfig } from '../config';
import { activity, at, Run, T0, types } from './fixtures';

const facts = (overrides: Partial<ProfileEnrichment> = {}): ProfileEnrichment => ({
  source: 'klaviyo',
  profileFound: true,
  predictive: { historicClv: '93.87', churnProbability: 0.89, expectedDateOfNextOrder: '2026-04-01T00:00:00.000Z' },
  segments: [{ id: 'S1', name: 'Repeat purchasers' }],
  lists: [{ id: 'L1', name: 'Newsletter' }],
  consent: { email: 'SUBSCRIBED' },
  lastEventAt: '2026-02-20T10:00:00.000Z',
  ...overrides,
});

describe('enrichment recorded on the recovery stream', () => {
  const thresholds = defaultRecoveryConfig.segments;

  it('adds vip for a Klaviyo VIP segment or list, or a historic CLV at the VIP threshold, never twice', () => {
    expect(segmentsFromEnrichment(facts(), ['new'], thresholds)).toEqual([]);
    expect(
      segmentsFromEnrichment(facts({ segments: [{ id: 'S2', name: 'VIP customers' }] }), ['new'], thresholds),
    ).toEqual(['vip']);
    expect(segmentsFromEnrichment(facts({ lists: [{ id: 'L2', name: 'vip-list' }] }), ['new'], thresholds)).toEqual([
      'vip',
    ]);
    // "Vipers" is not a VIP list.
    expect(segmentsFromEnrichment(facts({ lists: [{ id: 'L3', name: 'Vipers' }] }), ['new'], thresholds)).toEqual([]);
    const rich = facts({ predictive: { historicClv: thresholds.vipMinTotalSpent } });
    expect(segmentsFromEnrichment(rich, ['new'], thresholds)).toEqual(['vip']);
    expect(segmentsFromEnrichment(rich, ['returning', 'vip'], thresholds)).toEqual([]);
    expect(segmentsFromEnrichment({ ...rich, profileFound: false }, ['new'], thresholds)).toEqual([]);
  });

  it('a cart that is only watched (not abandoned yet) has nothing to enrich', () => {
    const run = new Run();
    run.send(activity(T0));
    expect(run.state.status).toBe('watching');
    expect(run.send({ type: 'RecordEnrichment', at: T0, enrichment: facts() })).toEqual([]);
  });

  it('enriched: one event with the facts and the added segment; a second answer is ignored', () => {
    const run = new Run().startAbandoned();
    expect(run.state.segments).not.toContain('vip');
    const vip = facts({ segments: [{ id: 'S9', name: 'VIP' }] });
    const first = run.send({ type: 'RecordEnrichment', at: at(T0, 5_000), enrichment: vip });
    expect(first).toEqual([
      expect.objectContaining({ type: 'recovery.enriched', enrichment: vip, segmentsAdded: ['vip'] }),
    ]);
    expect(run.state.segments).toContain('vip');
    expect(run.state.enrichment).toBe('enriched');
    expect(run.send({ type: 'RecordEnrichment', at: at(T0, 6_000), enrichment: vip })).toEqual([]);
    expect(
      run.send({ type: 'RecordEnrichmentUnavailable', at: at(T0, 6_000), source: 'klaviyo', reason: 'timeout' }),
    ).toEqual([]);
  });

  it('unavailable: recorded with its reason and code, and the recovery goes on (the step still becomes due)', () => {
    const run = new Run().startAbandoned();
    const events = run.send({
      type: 'RecordEnrichmentUnavailable',
      at: at(T0, 2_000),
      source: 'klaviyo',
      reason: 'throttled',
      code: 'throttled',
    });
    expect(events).toEqual([
      expect.objectContaining({ type: 'recovery.enrichment-unavailable', reason: 'throttled', code: 'throttled' }),
    ]);
    expect(run.state.enrichment).toBe('unavailable');
    expect(types(run.fire())).toContain('recovery.step-due');
  });
});
