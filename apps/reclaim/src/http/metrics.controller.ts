import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import type { Pool } from 'pg';
import { EngagementPoller, type ShopRegistry } from '@reclaim/application';
import { ReclaimMetrics } from '@reclaim/read-models';

/** Shops whose latest connection check found a problem (refused credentials, missing or drifted subscriptions). */
export function registerShopConnectionMetrics(
  registry: Registry,
  shops: Pick<ShopRegistry, 'connectionProblems'>,
): void {
  new Gauge({
    name: 'reclaim_shop_connection_problems',
    help: 'Shops whose latest connection check found refused credentials or missing / drifted webhook subscriptions',
    labelNames: ['platform'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const counts = new Map<string, number>([
        ['shopify', 0],
        ['bigcommerce', 0],
        ['woocommerce', 0],
      ]);
      for (const p of await shops.connectionProblems().catch(() => [])) {
        counts.set(p.platform, (counts.get(p.platform) ?? 0) + 1);
      }
      for (const [platform, n] of counts) this.set({ platform }, n);
    },
  });
}

/**
 * Klaviyo as a partner: the engagement poll's health per source (consecutive failures, failures,
 * seconds since the last success) and the enrichment outcomes (`engine.enrichment_status`).
 */
export function registerKlaviyoMetrics(registry: Registry, pool: Pool): void {
  const sources = () => EngagementPoller.statuses(pool).catch(() => []);
  new Gauge({
    name: 'reclaim_engagement_poll_consecutive_failures',
    help: 'Engagement polls (Klaviyo opens, clicks, bounces) failed in a row, by source (0 = the last one succeeded)',
    labelNames: ['source'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await sources()) this.set({ source: s.source }, s.consecutiveFailures);
    },
  });
  new Gauge({
    name: 'reclaim_engagement_poll_failures',
    help: 'Engagement polls that failed since the source was first polled, by source',
    labelNames: ['source'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await sources()) this.set({ source: s.source }, s.failures);
    },
  });
  new Gauge({
    name: 'reclaim_engagement_poll_recorded',
    help: 'Engagement read back from the provider and recorded on recoveries, by source',
    labelNames: ['source'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await sources()) this.set({ source: s.source }, s.recorded);
    },
  });
  new Gauge({
    name: 'reclaim_enrichment_recoveries',
    help: 'Recoveries whose marketing-platform facts were recorded (enriched) or not (unavailable), by source',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const { rows } = await pool
        .query<{ source: string; enriched: string; unavailable: string }>(
          'SELECT source, sum(enriched)::text AS enriched, sum(unavailable)::text AS unavailable FROM engine.enrichment_status GROUP BY source',
        )
        .catch(() => ({ rows: [] }));
      for (const r of rows) {
        this.set({ source: r.source, outcome: 'enriched' }, Number(r.enriched));
        this.set({ source: r.source, outcome: 'unavailable' }, Number(r.unavailable));
      }
    },
  });
}

/** Prometheus metrics (text format). No auth: no personal data, no per-cart or per-customer labels. */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ReclaimMetrics) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics: webhooks, append latency, subscription lag, timers, sends' })
  async metricsText(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await this.metrics.text();
    await reply.status(200).header('content-type', contentType).send(body);
  }
}
