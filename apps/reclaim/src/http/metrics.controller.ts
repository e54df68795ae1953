import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import type { ShopRegistry } from '@reclaim/application';
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
