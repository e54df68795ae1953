/**
 * What the effect handlers work with: the recovery's facts (event store, engine tables), the ports
 * of the outside systems, and the shop settings. One value, provided to the effects module under
 * {@link EFFECT_DEPS}; the appliance builds it in its engine, tests build it with fakes.
 */
import type { Pool } from 'pg';
import type { Channel, RecoveryDecider, SealedValue } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import type { Clock } from '../clock';
import type { EngineLog, MessageLinkFactory, MessageRenderer, ShopLookup } from '../ports';
import type {
  CatalogPort,
  ChannelPort,
  CommercePort,
  CustomerTicketLookup,
  EffectMetrics,
  ProfileEnricher,
  RecoveryProfileSync,
  TicketPort,
} from '@reclaim/ports';
import type { ShopDeciders, ShopProfiles } from '../settings/shop-settings';
import type { SmsOptOutPort } from '../sms/sms-opt-outs';

/** Injection token of the {@link EffectRunnerDeps} value. */
export const EFFECT_DEPS = Symbol('reclaim.effect-deps');

/** Opens sealed contacts: `PersonalDataVault` satisfies it (`null` = crypto-shredded). */
export interface ContactOpener {
  open<T = unknown>(shopId: string, sealed: SealedValue): Promise<T | null>;
}

export interface EffectRunnerDeps {
  readonly store: EventStore;
  readonly pool: Pool;
  readonly pm: RecoveryDecider;
  readonly clock: Clock;
  readonly vault: ContactOpener;
  readonly shops: ShopLookup;
  /**
   * One provider per channel. A channel without a provider is skipped by the pre-send checks with
   * `channel-unavailable` (the step's next channel is used), never attempted.
   */
  readonly channels: Partial<Record<Channel, ChannelPort>>;
  readonly commerce: CommercePort;
  readonly renderer: MessageRenderer;
  /** Signed unsubscribe, open-pixel and click links of each message (`MessageLinks`). */
  readonly links: MessageLinkFactory;
  /** Without it, ticket requests are recorded as `recovery.ticket-skipped{no-ticket-provider}`. */
  readonly tickets?: TicketPort;
  /**
   * The customer's own open tickets at the help desk, read as each step is sent (one attempt, short
   * timeout) and recorded on the recovery (`recovery.support-checked`); without it nothing is read.
   */
  readonly supportLookup?: CustomerTicketLookup;
  /**
   * Marketing profile sync (Klaviyo): `profile` requests push the recovery's segment and context.
   * Without it they are dropped. Its failures are retried with back-off on their own requests and
   * never hold up a send.
   */
  readonly profileSync?: RecoveryProfileSync;
  /**
   * Enrichment (Klaviyo): `enrich` requests read the shopper's profile facts once, as the recovery
   * starts, and record them (or "unavailable" with the reason) on the recovery stream.
   */
  readonly enricher?: ProfileEnricher;
  /**
   * The store's catalogue (product categories): `categorize` requests ask it for the cart's products
   * the category cache does not know and record the answer on the recovery stream.
   */
  readonly catalog?: CatalogPort;
  /** A product's recorded categories are asked again once older than this (CATEGORY_CACHE_TTL, default 24 h). */
  readonly categoryCacheTtlMs?: number;
  /**
   * SMS opt-outs (R26): who each texted number belongs to (so a STOP reply finds the customer), and
   * the opt-out a send reports (`RecipientOptedOutError`, Twilio 21610).
   */
  readonly smsOptOuts?: SmsOptOutPort;
  /** Per-shop process managers (shop settings); `pm` for every shop when absent. */
  readonly deciders?: ShopDeciders;
  /** The merchant's name and postal address printed in emails (R25). */
  readonly profiles?: ShopProfiles;
  readonly log?: EngineLog;
  /** Requests claimed per round trip. Default: {@link EFFECT_DEFAULTS}, as for the others. */
  readonly batchSize?: number;
  /** Lease of a claimed request; must exceed the longest provider call. */
  readonly leaseMs?: number;
  /** A `started` effect older than this is considered interrupted at start-up. */
  readonly staleStartedAfterMs?: number;
  /** Attempts of a request that is put back (deferred, or its handler threw) before it is dropped. */
  readonly maxRequestAttempts?: number;
  /**
   * Wait of a step blocked by an outside error (`OUTSIDE_ERROR_RETRY`): the first deferral waits
   * `firstMs`, each consecutive one twice as long, at most `maxMs` (never less than a `Retry-After`).
   */
  readonly outsideRetry?: { readonly firstMs: number; readonly maxMs: number };
  /**
   * Opens, clicks and delivery statuses that arrived before the send was recorded
   * (`HeldEngagement`): applied as soon as an effect feeds the send back.
   */
  readonly heldEngagement?: { applyHeld(recoveryId: string): Promise<number> };
  /** Requests put back or dropped, for `/metrics` (never only a log line). */
  readonly effectMetrics?: EffectMetrics;
  /** The learned discount policy's draw (RFC 0017); default `cryptoRandom`. */
  readonly incentiveRandom?: () => number;
  /** The channel choice's Thompson draw (RFC 0013 §2), recorded on the choice; default `cryptoRandom`. */
  readonly channelRandom?: () => number;
}

/** The effect runner's defaults, in one place. */
export const EFFECT_DEFAULTS = {
  batchSize: 50,
  leaseMs: 5 * 60_000,
  staleStartedAfterMs: 10 * 60_000,
  maxRequestAttempts: 20,
  /** Wait when an outside system asks to retry later without saying when. */
  retryAfterMs: 60_000,
  /** Back-off of a request whose handler threw: 1 s doubling, at most this. */
  maxBackoffMs: 5 * 60_000,
  /** A step blocked by an outside error: first wait, doubling per consecutive deferral, at most `outsideRetryMaxMs`. */
  outsideRetryFirstMs: 60_000,
  outsideRetryMaxMs: 60 * 60_000,
} as const;

/** The wait after the `previous`+1-th consecutive outside-error deferral of a step (never less than the server asked). */
export function outsideRetryDelayMs(
  deps: Pick<EffectRunnerDeps, 'outsideRetry'>,
  previous: number,
  retryAfterMs?: number,
): number {
  const first = deps.outsideRetry?.firstMs ?? EFFECT_DEFAULTS.outsideRetryFirstMs;
  const max = Math.max(first, deps.outsideRetry?.maxMs ?? EFFECT_DEFAULTS.outsideRetryMaxMs);
  const grown = Math.min(max, first * 2 ** Math.min(Math.max(0, previous), 30));
  return Math.max(grown, retryAfterMs ?? 0);
}
