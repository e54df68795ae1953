/**
 * The thin runner: each claimed request becomes its command on the bus, and the handler's outcome
 * alone decides what happens to the durable request (settled, put back at `until`, backed off,
 * dropped after too many attempts).
 */
import { CommandHandlerNotFoundException, type CommandBus } from '@nestjs/cqrs';
import {
  effectCommandOf,
  OpenSupportTicket,
  ReconcileUnknownOutcome,
  SendRecoveryStep,
  SyncProfile,
  type EffectOutcome,
} from './effect-commands';
import type { EffectRunnerDeps } from './effect-deps';
import type { EffectQueue, EffectRequest } from './effect-queue';
import type { EffectRecords } from './effect-records';
import { EffectRunner } from './effect-runner';
import { CheckInventory } from './effect-commands';
import { createEffectRunner } from './effects.module';
import { effectOutcomeOf } from './send-recovery-step.handler';

const NOW = new Date('2025-03-03T08:00:00.000Z');

function request(overrides: Partial<EffectRequest> = {}): EffectRequest {
  return {
    requestId: 'r-1',
    kind: 'step',
    streamId: 'recovery-s-c',
    shopId: 's',
    payload: { step: 1 },
    attempts: 0,
    ...overrides,
  };
}

function harness(answer: (command: unknown) => Promise<EffectOutcome>, maxRequestAttempts = 3) {
  const calls: { op: string; requestId: string; at?: Date }[] = [];
  const warnings: string[] = [];
  const counted: string[] = [];
  const queue = {
    done: async (requestId: string, at: Date) => void calls.push({ op: 'done', requestId, at }),
    retryLater: async (requestId: string, at: Date) => void calls.push({ op: 'retryLater', requestId, at }),
    park: async (r: EffectRequest, at: Date) => void calls.push({ op: 'park', requestId: r.requestId, at }),
  } as unknown as EffectQueue;
  const dispatched: unknown[] = [];
  const bus = {
    execute: async (command: unknown) => {
      dispatched.push(command);
      return answer(command);
    },
  } as unknown as CommandBus;
  const deps = {
    clock: { now: () => NOW },
    maxRequestAttempts,
    log: { warn: (_: object, msg: string) => void warnings.push(msg) },
    effectMetrics: { effectRequest: (kind: string, outcome: string) => void counted.push(`${kind}:${outcome}`) },
  } as unknown as EffectRunnerDeps;
  const runner = new EffectRunner(bus, queue, {} as EffectRecords, deps);
  return { runner, calls, warnings, dispatched, counted };
}

describe('EffectRunner', () => {
  it.each<EffectOutcome>([
    { kind: 'sent', ref: 'm-1' },
    { kind: 'skipped', reason: 'stale-request' },
    { kind: 'unknown' },
    { kind: 'failed', error: 'smtp 550', retryable: false },
  ])('settles the request on %o', async (outcome) => {
    const h = harness(async () => outcome);
    expect(await h.runner.process(request())).toBe(true);
    expect(h.calls).toEqual([{ op: 'done', requestId: 'r-1', at: NOW }]);
    expect(h.dispatched[0]).toBeInstanceOf(SendRecoveryStep);
  });

  it('a put-back the database did not take (outage) is written at the next drain, not left to the lease', async () => {
    const calls: string[] = [];
    let down = true;
    const queue = {
      retryLater: async (requestId: string) => {
        calls.push(`retryLater ${requestId}${down ? ' (refused)' : ''}`);
        if (down) throw new Error('connection terminated');
      },
      claim: async () => {
        calls.push('claim');
        return [];
      },
      requeueRetried: async () => [],
      done: async () => undefined,
    } as unknown as EffectQueue;
    const bus = {
      execute: async () => {
        throw new Error('connection terminated');
      },
    } as unknown as CommandBus;
    const deps = { clock: { now: () => NOW }, maxRequestAttempts: 5 } as unknown as EffectRunnerDeps;
    const runner = new EffectRunner(bus, queue, {} as EffectRecords, deps);
    expect(await runner.process(request())).toBe(false);
    await expect(runner.runOnce()).rejects.toThrow('connection terminated');
    down = false;
    await runner.runOnce();
    await runner.runOnce();
    expect(calls).toEqual(['retryLater r-1 (refused)', 'retryLater r-1 (refused)', 'retryLater r-1', 'claim', 'claim']);
  });

  it('puts a deferred request back until the time its handler names', async () => {
    const until = new Date(NOW.getTime() + 90_000);
    const h = harness(async () => ({ kind: 'deferred', until, reason: 'ticket: 429' }));
    expect(await h.runner.process(request({ kind: 'ticket', payload: {} }))).toBe(false);
    expect(h.calls).toEqual([{ op: 'retryLater', requestId: 'r-1', at: until }]);
    expect(h.warnings).toEqual(['effect request failed: retried later']);
    expect(h.counted).toEqual(['ticket:deferred']);
  });

  it('backs off exponentially when the handler throws', async () => {
    const h = harness(async () => {
      throw new Error('store down');
    }, 20);
    expect(await h.runner.process(request({ attempts: 2 }))).toBe(false);
    expect(h.calls).toEqual([{ op: 'retryLater', requestId: 'r-1', at: new Date(NOW.getTime() + 4_000) }]);
    expect(h.counted).toEqual(['step:retried']);
  });

  it('parks a request as a dead letter after its last attempt, with a warning', async () => {
    const h = harness(async () => {
      throw new Error('store down');
    }, 3);
    expect(await h.runner.process(request({ attempts: 2, streamId: 'not-a-recovery' }))).toBe(false);
    expect(h.calls).toEqual([{ op: 'park', requestId: 'r-1', at: NOW }]);
    expect(h.warnings).toEqual(['effect request parked as a dead letter after repeated failures']);
    expect(h.counted).toEqual(['step:dropped']);
  });
});

describe('effect commands', () => {
  it('maps each queued kind to its command', () => {
    const step = effectCommandOf(request({ payload: { step: 2 } }));
    expect(step).toBeInstanceOf(SendRecoveryStep);
    expect((step as SendRecoveryStep).step).toBe(2);
    const reconcile = effectCommandOf(request({ kind: 'reconcile', payload: { step: 0, channel: 'sms' } }));
    expect(reconcile).toBeInstanceOf(ReconcileUnknownOutcome);
    expect((reconcile as ReconcileUnknownOutcome).channel).toBe('sms');
    const ticket = effectCommandOf(request({ kind: 'ticket', payload: {} }));
    expect((ticket as OpenSupportTicket).idempotencyKey).toBe('recovery-s-c:ticket');
    expect(effectCommandOf(request({ kind: 'profile', payload: {} }))).toBeInstanceOf(SyncProfile);
  });

  it("turns a step's outcome into the request's outcome (the recovery owns what follows)", () => {
    expect(effectOutcomeOf({ kind: 'sent', messageId: 'm-1' })).toEqual({ kind: 'sent', ref: 'm-1' });
    expect(effectOutcomeOf({ kind: 'failed', retryable: true, error: 'timeout' })).toEqual({
      kind: 'failed',
      error: 'timeout',
      retryable: true,
    });
    expect(effectOutcomeOf({ kind: 'stopped', reason: 'purchased' })).toEqual({
      kind: 'skipped',
      reason: 'purchased',
    });
    expect(effectOutcomeOf({ kind: 'deferred', until: NOW.toISOString(), reason: 'quiet-hours' })).toEqual({
      kind: 'skipped',
      reason: 'deferred:quiet-hours',
    });
  });
});

describe('createEffectRunner (the module the appliance imports, as a standalone Nest context)', () => {
  it('registers every effect handler on its CommandBus', async () => {
    const deps = { clock: { now: () => NOW }, channels: {} } as unknown as EffectRunnerDeps;
    const built = await createEffectRunner(deps);
    try {
      // Without a profile sync the handler answers without touching anything else.
      await expect(built.bus.execute(new SyncProfile(request({ kind: 'profile', payload: {} })))).resolves.toEqual({
        kind: 'skipped',
        reason: 'no-profile-sync',
      });
      expect(built.runner).toBeInstanceOf(EffectRunner);
      // The others reach for dependencies this bare context lacks: they fail, but in their handler.
      const commands = [
        new SendRecoveryStep(request(), 0),
        new ReconcileUnknownOutcome(request({ kind: 'reconcile' }), 0, 'email'),
        new OpenSupportTicket(request({ kind: 'ticket' }), 'k'),
        new CheckInventory(
          {
            id: 's',
            platform: 'shopify',
            shopDomain: 'x.example',
            currency: 'EUR',
            timezone: 'UTC',
            apiUrl: 'https://x.example',
            apiToken: 't',
          },
          [],
          {
            recoveryId: 'recovery-s-c',
            step: 0,
            deferrals: 0,
          },
        ),
      ];
      for (const command of commands) {
        const error = await built.bus.execute(command).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error).not.toBeInstanceOf(CommandHandlerNotFoundException);
      }
    } finally {
      await built.close();
    }
  });
});
