import { Controller, HttpException, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '@reclaim/domain';
import { ReceiveWebhook, type ReceiveOutcome } from '@reclaim/application';
import { inspectCartflows, mapCartflows, type RawWebhook } from '@reclaim/platforms';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';

/**
 * Webhook endpoints. The body arrives as the raw bytes (see http-setup.ts): signatures are
 * checked on exactly what the platform signed. Every 2xx is given only after the delivery was
 * durably appended; a failure of the database answers 503 so the platform retries (R6).
 */
@ApiExcludeController()
@Controller('webhooks')
export class WebhooksController {
  constructor(
    @Inject(RUNTIME) private readonly runtime: Runtime,
    private readonly receiveWebhook: ReceiveWebhook,
  ) {}

  @Post('shopify')
  shopify(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.handle('shopify', req, reply);
  }

  @Post('bigcommerce')
  bigcommerce(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.handle('bigcommerce', req, reply);
  }

  @Post('woocommerce')
  woocommerce(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.handle('woocommerce', req, reply);
  }

  /** The CartFlows plugin cannot sign: it posts to a per-shop secret URL (only its hash is stored). */
  @Post('woocommerce/cartflows/:token')
  async cartflows(
    @Param('token') token: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.answer(reply, async () => {
      const shop = await this.runtime.shops.findByCartflowsToken(token);
      if (!shop || shop.platform !== 'woocommerce') return { status: 404, body: { error: 'unknown webhook URL' } };
      const raw = this.raw(req);
      const inspected = inspectCartflows(raw, shop.shopDomain);
      if (!inspected.ok) return { status: inspected.status, body: { error: inspected.error, field: inspected.field } };
      return this.receiveWebhook.receiveAuthenticated(
        shop,
        inspected,
        mapCartflows(inspected, { shopCurrency: shop.currency }),
        raw,
      );
    });
  }

  private handle(platform: Platform, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    return this.answer(reply, () => this.receiveWebhook.receive(platform, this.raw(req)));
  }

  private raw(req: FastifyRequest): RawWebhook {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    return {
      headers: req.headers as Record<string, string | undefined>,
      body,
      contentType: req.headers['content-type'],
      receivedAt: this.runtime.clock(),
    };
  }

  private async answer(reply: FastifyReply, fn: () => Promise<ReceiveOutcome>): Promise<void> {
    let outcome: ReceiveOutcome;
    try {
      outcome = await fn();
    } catch (err) {
      if (err instanceof HttpException) throw err;
      // Not durably recorded: make the platform retry later (R1, R6).
      reply.log.error({ err: err instanceof Error ? err.message : String(err) }, 'webhook not recorded');
      await reply.status(503).header('retry-after', '30').send({ error: 'temporarily unavailable, retry later' });
      return;
    }
    await reply.status(outcome.status).send(outcome.body);
  }
}
