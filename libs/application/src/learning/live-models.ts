/**
 * The live recovery-score model of each shop, cached in memory for scoring at abandonment (RFC 0011
 * §6). An entry is loaded from the shop's model stream once and kept until the stream changes:
 * the trainer NOTIFYs `reclaim_models` (payload the shop id) after every append, and every process
 * that {@link follow}s drops the shop's entry. While not listening (not started, connection lost)
 * an entry is trusted for `cacheMs` only (default 5 s), as the shop-settings cache does.
 */
import type { Pool } from 'pg';
import { listenForNotifications } from '../shared/listen';
import type { ScoringContext } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import { readModelStream } from './model-stream';

export const MODELS_CHANNEL = 'reclaim_models';

/** What the start of a recovery asks for (`StartContextDeps.scoring`). */
export interface ScoringSource {
  forShop(shopId: string): Promise<ScoringContext>;
}

interface Entry {
  readonly at: number;
  readonly scoring: ScoringContext;
}

export class LiveModels implements ScoringSource {
  private readonly cache = new Map<string, Entry>();
  private epoch = 0;
  private listening = false;
  readonly stats = { hits: 0, loads: 0, invalidations: 0 };

  constructor(
    private readonly deps: {
      readonly store: EventStore;
      readonly pool?: Pool;
      /** Outcomes needed before the first training has said how many (SCORE_MIN_OUTCOMES). */
      readonly minOutcomes: number;
      readonly cacheMs?: number;
    },
  ) {}

  get isListening(): boolean {
    return this.listening;
  }

  async forShop(shopId: string): Promise<ScoringContext> {
    const cached = this.cache.get(shopId);
    if (cached && (this.listening || Date.now() - cached.at < (this.deps.cacheMs ?? 5_000))) {
      this.stats.hits++;
      return cached.scoring;
    }
    const epoch = this.epoch;
    this.stats.loads++;
    const state = await readModelStream(this.deps.store, shopId);
    const scoring: ScoringContext = state.live
      ? { kind: 'model', version: state.live.version, scope: state.live.scope, model: state.live.model }
      : { kind: 'none', outcomesNeeded: state.needed ?? this.deps.minOutcomes };
    if (epoch === this.epoch) this.cache.set(shopId, { at: Date.now(), scoring });
    return scoring;
  }

  /** Drops the shop's entry (`*`: all). */
  invalidate(shopId: string): void {
    this.epoch++;
    this.stats.invalidations++;
    if (shopId === '*') this.cache.clear();
    else this.cache.delete(shopId);
  }

  /** Tells every process (and this one) that the shop's model stream changed. */
  async announce(shopId: string): Promise<void> {
    this.invalidate(shopId);
    await this.deps.pool?.query('SELECT pg_notify($1, $2)', [MODELS_CHANNEL, shopId]);
  }

  /** Listens for model changes until `signal` aborts, reconnecting after `retryMs`. */
  async follow(signal: AbortSignal, retryMs = 1_000): Promise<void> {
    const pool = this.deps.pool;
    if (!pool) return;
    await listenForNotifications(
      pool,
      [MODELS_CHANNEL],
      {
        onNotify: (_channel, payload) => this.invalidate(payload || '*'),
        onListening: (listening) => {
          if (listening) this.invalidate('*');
          this.listening = listening;
        },
      },
      signal,
      retryMs,
    );
  }
}
