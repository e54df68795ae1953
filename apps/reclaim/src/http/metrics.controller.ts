import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ReclaimMetrics } from '@reclaim/read-models';

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
