import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  Body,
  ConflictException,
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  Inject,
  NotFoundException,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { EffectQueue, EngagementPoller, retryDeadLetter, type RetryDeadLetterResult } from '@reclaim/application';
import { parseRecoveryId } from '@reclaim/domain';
import { listDeadLetters, retryDeadLetter as retryBlockedKey, type DeadLetter } from '@reclaim/event-store';
import {
  activity,
  dailyFunnel,
  dashboardKpis,
  engagementBySegmentAndStep,
  channelResponseRates,
  periodError,
  recoveryBySegment,
  sentMessages,
  sequenceEffectiveness,
  stepEffectiveness,
  stuckSteps,
  type DashboardPeriod,
} from '@reclaim/read-models/queries/dashboard';
import type { Runtime } from '../../runtime/runtime';
import { RUNTIME } from '../../runtime/runtime.token';
import { AdminAuthGuard, AdminOnly } from '../admin-auth.guard';
import { invalid } from '../recovery-admin.controller';
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from './dashboard-assets';
import { DashboardEditorController } from './editor.controller';
import { IdPipe, ShopIdOrAllPipe } from '../ids';

/**
 * The page sets no inline script and loads nothing from elsewhere. Inline styles are allowed for
 * the e-mail preview (a sandboxed `srcdoc` frame inherits this policy); images only as data: URLs,
 * so previewing an e-mail never loads its open-tracking pixel or remote images.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  'img-src data:',
  "frame-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

let chartJs: string | undefined;
/** Chart.js's UMD build, straight from node_modules (a production dependency). */
function chartLibrary(): string {
  chartJs ??= readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  return chartJs;
}

/** `/dashboard`: a static page (vanilla JS + Chart.js) that asks for the token and calls `/api/dashboard/*`. */
@ApiTags('dashboard page')
@Controller('dashboard')
export class DashboardPageController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CSP)
  @Header('x-content-type-options', 'nosniff')
  @Header('referrer-policy', 'no-referrer')
  @Header('cache-control', 'no-store')
  page(): string {
    return DASHBOARD_HTML;
  }

  @Get('dashboard.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('x-content-type-options', 'nosniff')
  @Header('cache-control', 'no-cache')
  script(): string {
    return DASHBOARD_JS;
  }

  @Get('dashboard.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('x-content-type-options', 'nosniff')
  @Header('cache-control', 'no-cache')
  style(): string {
    return DASHBOARD_CSS;
  }

  @Get('vendor/chart.umd.min.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('x-content-type-options', 'nosniff')
  @Header('cache-control', 'public, max-age=86400')
  chart(): string {
    return chartLibrary();
  }
}

const EMAIL_HEADER = 'x-customer-email';
/** `shopId=all`: the all-shops view (figures over every registered shop, days cut in UTC). */
export const ALL_SHOPS = 'all';

/** Which shops a dashboard request covers and the time zone its days and hours are cut in. */
export interface DashboardScope {
  readonly shopIds: readonly string[];
  readonly timeZone: string;
  /** The shop's currency (one shop), else null. */
  readonly currency: string | null;
}

/**
 * The dashboard's JSON: KPIs, lift, funnel and engagement from the read models (admin or analyst
 * token), the stuck steps with the admin's retry, and the customer-key lookup for the history search.
 */
@ApiTags('dashboard')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/dashboard')
export class DashboardApiController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  @Get('summary')
  @ApiOperation({
    summary:
      'KPIs (abandoned carts, recovery rate with and without messages, within 30 days, recovered and incremental revenue with 95 % CI, revenue per recovered cart, time to recovery), daily funnel, activity in buckets fitted to the data (hour, day or week), recovery rate by segment, engagement by segment and step, effectiveness per sequence (by segment) and per step, learned response rates per segment × channel (the evidence of the channel choice). shopId=all covers every shop.',
  })
  async summary(
    @Query('shopId', ShopIdOrAllPipe) shopId?: string,
    @Query('from') from?: string,
    @Query('to') to?: string,
  ) {
    const scope = await this.scope(shopId);
    const period = this.period(scope, from, to);
    const pool = this.runtime.pool;
    const [kpis, funnel, timeline, segments, engagement, sequences, steps, responseRates] = await Promise.all([
      dashboardKpis(pool, period),
      dailyFunnel(pool, period),
      activity(pool, { ...period, timeZone: scope.timeZone }, this.runtime.clock()),
      recoveryBySegment(pool, period),
      engagementBySegmentAndStep(pool, period),
      sequenceEffectiveness(pool, period),
      stepEffectiveness(pool, period),
      channelResponseRates(pool, period),
    ]);
    return {
      kpis: { ...kpis, currency: kpis.currency ?? (kpis.mixedCurrencies ? null : scope.currency) },
      funnel,
      activity: timeline,
      segments,
      engagement,
      sequences,
      steps,
      responseRates,
    };
  }

  @Get('messages')
  @ApiOperation({
    summary:
      'Messages that went out through any provider (SMTP, Klaviyo, Twilio or the local outbox), newest first, from the send records of the log: step, channel, template, provider message id, opened/clicked. shopId=all covers every shop.',
  })
  async messages(
    @Query('shopId', ShopIdOrAllPipe) shopId?: string,
    @Query('limit') limit?: string,
    @Query('before') before?: string,
  ) {
    const scope = await this.scope(shopId);
    const n = limit === undefined ? 50 : Number(limit);
    const errors = [
      ...(!Number.isInteger(n) || n < 1 || n > 500 ? [{ field: 'limit', message: 'must be 1 to 500' }] : []),
      ...(before !== undefined && Number.isNaN(Date.parse(before))
        ? [{ field: 'before', message: 'must be an ISO timestamp' }]
        : []),
    ];
    if (errors.length > 0) throw invalid(errors);
    return sentMessages(this.runtime.pool, scope.shopIds, { limit: n, ...(before !== undefined ? { before } : {}) });
  }

  @Get('messages/preview')
  @AdminOnly()
  @ApiOperation({
    summary:
      'A sent message re-rendered from its send record (template, cart value, discount) and the cart snapshot: subject, html, text. No contact details; links are placeholders.',
  })
  async messagePreview(@Query('recoveryId') recoveryId?: string, @Query('step') step?: string) {
    const n = Number(step);
    const errors = [
      ...(typeof recoveryId !== 'string' || !recoveryId.startsWith('recovery-')
        ? [{ field: 'recoveryId', message: 'must be a recovery id (recovery-<shop>-<cart>)' }]
        : []),
      ...(step === undefined || !Number.isInteger(n) || n < 0
        ? [{ field: 'step', message: 'must be a step index (0, 1, …)' }]
        : []),
    ];
    if (errors.length > 0) throw invalid(errors);
    const preview = await this.runtime.engine.previews.sent(recoveryId as string, n);
    if (preview === undefined) throw new NotFoundException(`no message sent for step ${n} of ${recoveryId as string}`);
    if (!preview.ok) throw new ConflictException(`the message cannot be rendered again: ${preview.error}`);
    return preview;
  }

  @Get('stuck-steps')
  @ApiOperation({
    summary:
      'Dead-lettered steps (retry by hand), steps with an unknown outcome (being reconciled), and steps, tickets and profile pushes blocked by an outside error (retrying; `effect` names a ticket or profile push, `step` is null)',
  })
  async stuck(@Query('shopId', ShopIdOrAllPipe) shopId?: string) {
    const scope = await this.scope(shopId);
    const steps = await stuckSteps(this.runtime.pool, scope.shopIds);
    const effects = await new EffectQueue(this.runtime.pool).blockedEffects(scope.shopIds);
    if (effects.length === 0) return steps;
    const { rows } = await this.runtime.pool.query<{
      recovery_id: string;
      customer_key: string | null;
      status: string;
    }>('SELECT recovery_id, customer_key, status FROM read.recoveries WHERE recovery_id = ANY($1::text[])', [
      effects.map((e) => e.recoveryId),
    ]);
    const recoveries = new Map(rows.map((r) => [r.recovery_id, r]));
    return [
      ...steps,
      ...effects.map((e) => ({
        recoveryId: e.recoveryId,
        cartId: parseRecoveryId(e.recoveryId)?.cartId ?? null,
        customerKey: recoveries.get(e.recoveryId)?.customer_key ?? null,
        step: null,
        effect: e.effect,
        channel: null,
        status: 'blocked' as const,
        reason: e.effect,
        detail: e.error,
        attempts: e.attempts,
        at: null,
        since: e.since,
        recoveryStatus: recoveries.get(e.recoveryId)?.status ?? null,
      })),
    ];
  }

  @Post('stuck-steps/retry')
  @AdminOnly()
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Re-queue a dead-lettered step { recoveryId, step }: sent again with a fresh retry budget (reconciled first when it was unreconcilable); 409 with the reason when the engine would not retry it',
  })
  async retry(@Body() body: Record<string, unknown>): Promise<RetryDeadLetterResult> {
    const recoveryId = body?.recoveryId;
    const step = body?.step;
    const errors = [
      ...(typeof recoveryId !== 'string' || !recoveryId.startsWith('recovery-')
        ? [{ field: 'recoveryId', message: 'must be a recovery id (recovery-<shop>-<cart>)' }]
        : []),
      ...(typeof step !== 'number' || !Number.isInteger(step) || step < 0
        ? [{ field: 'step', message: 'must be a step index (0, 1, …)' }]
        : []),
    ];
    if (errors.length > 0) throw invalid(errors);
    const { engine, store } = this.runtime;
    const result = await retryDeadLetter(
      { store, clock: engine.clock, pm: engine.pm, deciders: engine.settings },
      recoveryId as string,
      step as number,
    );
    if (result.status === 'refused') {
      if (result.reason === 'no such recovery' || result.reason === 'not a recovery id') {
        throw new NotFoundException(`no recovery ${recoveryId as string}`);
      }
      throw new ConflictException(result.reason);
    }
    return result;
  }

  @Get('klaviyo')
  @ApiOperation({
    summary:
      "Klaviyo per shop: the e-mail mode in use (html, template, or not Klaviyo), enrichment counts and the last enrichment and failure (with its reason); and the engagement poll's health (last success, last error, failures in a row). shopId=all covers every shop.",
  })
  async klaviyo(@Query('shopId', ShopIdOrAllPipe) shopId?: string) {
    const scope = await this.scope(shopId);
    const { config, engine, pool } = this.runtime;
    const providers = config.providers;
    const klaviyoEmail = providers.email.kind === 'klaviyo';
    const { rows } = await pool.query<{
      shop_id: string;
      enriched: string;
      unavailable: string;
      last_enriched_at: Date | null;
      last_failed_at: Date | null;
      last_failure_reason: string | null;
    }>(
      `SELECT shop_id, sum(enriched)::text AS enriched, sum(unavailable)::text AS unavailable,
              max(last_enriched_at) AS last_enriched_at, max(last_failed_at) AS last_failed_at,
              (array_agg(last_failure_reason ORDER BY last_failed_at DESC NULLS LAST))[1] AS last_failure_reason
         FROM engine.enrichment_status WHERE shop_id = ANY($1::text[]) GROUP BY shop_id`,
      [scope.shopIds],
    );
    const byShop = new Map(rows.map((r) => [r.shop_id, r]));
    const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
    const shops = await Promise.all(
      scope.shopIds.map(async (id) => {
        const setting = (await engine.settings.get(id)).klaviyoMode ?? 'html';
        const e = byShop.get(id);
        return {
          shopId: id,
          klaviyoMode: setting,
          // What is in use: the setting only matters when Klaviyo sends the e-mail.
          modeInUse: klaviyoEmail ? setting : `not-klaviyo (${providers.email.kind})`,
          enriched: Number(e?.enriched ?? 0),
          enrichmentUnavailable: Number(e?.unavailable ?? 0),
          lastEnrichedAt: iso(e?.last_enriched_at),
          lastEnrichmentFailureAt: iso(e?.last_failed_at),
          lastEnrichmentFailureReason: e?.last_failure_reason ?? null,
        };
      }),
    );
    return {
      email: providers.email.kind,
      enrichment: providers.klaviyoEnrichmentTimeoutMs !== undefined,
      engagementPoll: engine.engagementPoller !== undefined ? config.KLAVIYO_ENGAGEMENT_POLL : null,
      engagementSources: await EngagementPoller.statuses(pool),
      shops,
    };
  }

  @Get('dead-letters')
  @ApiOperation({
    summary:
      'Events the background consumers (delivery processor, engine feeds, projections, Kafka relay) could not apply: per blocked key, retrying or parked as a dead letter, with the error',
  })
  async deadLetters(): Promise<DeadLetter[]> {
    return listDeadLetters(this.runtime.pool);
  }

  @Post('dead-letters/retry')
  @AdminOnly()
  @HttpCode(202)
  @ApiOperation({
    summary:
      "Retry a blocked key { subscription, key } at the consumer's next pass (its held events in log order; parked again if it fails); 404 when it is not blocked",
  })
  async retryDeadLetter(@Body() body: Record<string, unknown>): Promise<{ subscription: string; key: string }> {
    const subscription = body?.subscription;
    const key = body?.key;
    const errors = [
      ...(typeof subscription !== 'string' ||
      subscription === '' ||
      subscription.length > 200 ||
      subscription.includes('\u0000')
        ? [{ field: 'subscription', message: 'must be a consumer name' }]
        : []),
      ...(typeof key !== 'string' || key === '' || key.length > 1000 || key.includes('\u0000')
        ? [{ field: 'key', message: 'must be the blocked key' }]
        : []),
    ];
    if (errors.length > 0) throw invalid(errors);
    if (!(await retryBlockedKey(this.runtime.pool, subscription as string, key as string)))
      throw new NotFoundException(`no blocked key ${key as string} in ${subscription as string}`);
    return { subscription: subscription as string, key: key as string };
  }

  @Get('customer-key')
  @ApiQuery({ name: 'shopId', required: true, description: 'the shop the customer belongs to (keys are per shop)' })
  @ApiHeader({ name: EMAIL_HEADER, required: true, description: 'the e-mail address (not stored, not logged)' })
  @ApiOperation({
    summary: `The customer key of an e-mail address (sent in the ${EMAIL_HEADER} header, never in the URL; not stored)`,
  })
  async customerKey(@Query('shopId', IdPipe) shopId: string | undefined, @Headers(EMAIL_HEADER) email?: string) {
    await this.shop(shopId);
    const address = typeof email === 'string' ? email.trim() : '';
    if (!/^[^\s@]+@[^\s@]+$/.test(address) || address.length > 320) {
      throw invalid([{ field: EMAIL_HEADER, message: 'must be an e-mail address' }]);
    }
    return { shopId, customerKey: this.runtime.vault.subjectFor(shopId as string, { email: address }) };
  }

  private async shop(shopId: string | undefined) {
    if (typeof shopId !== 'string' || shopId === '') throw invalid([{ field: 'shopId', message: 'is required' }]);
    const shop = await this.runtime.shops.get(shopId);
    if (!shop) throw new NotFoundException(`no shop ${shopId}`);
    return shop;
  }

  private async scope(shopId: string | undefined): Promise<DashboardScope> {
    if (shopId === ALL_SHOPS) {
      const shops = await this.runtime.shops.list();
      return { shopIds: shops.map((s) => s.id), timeZone: 'UTC', currency: null };
    }
    const shop = await this.shop(shopId);
    return { shopIds: [shop.id], timeZone: shop.timezone, currency: shop.currency };
  }

  private period(scope: DashboardScope, from?: string, to?: string): DashboardPeriod {
    const bad = periodError({ from, to });
    if (bad) throw invalid([{ field: bad[0], message: bad[1] }]);
    return { shopIds: scope.shopIds, from: from as string, to: to as string };
  }
}

export const DASHBOARD_CONTROLLERS = [DashboardPageController, DashboardApiController, DashboardEditorController];
