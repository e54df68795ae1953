import { Body, Controller, Get, Inject, NotFoundException, Param, Put, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  InvalidSequenceCatalogueError,
  InvalidTemplateError,
  validateEffectiveRouting,
  validateRoutingSequences,
  validateShopSettings,
  type OutboxEntry,
  type ShopRecoverySettings,
  type TemplateSource,
} from '@reclaim/application';
import type { SequenceCatalogue, SequenceDefinition, ValidationError } from '@reclaim/domain';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';
import { AdminAuthGuard, AdminOnly } from './admin-auth.guard';
import { invalid } from './bad-request';
import { IdPipe } from './ids';

export { invalid };

/** 400 naming each bad field: `{ statusCode, error, message: ["field: why"], errors: [{ field, message }] }`. */

const TEMPLATE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Per-shop recovery configuration (admin token; the analyst token may read settings and sequences):
 * settings, versioned sequence catalogues, template overrides and the local outbox.
 */
@ApiTags('recovery')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/shops')
export class RecoveryAdminController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  @Get(':id/settings')
  @ApiOperation({ summary: "The shop's recovery settings: what is stored and what is in effect" })
  async getSettings(@Param('id', IdPipe) id: string) {
    await this.shop(id);
    const { settings } = this.runtime.engine;
    return { shopId: id, stored: await settings.get(id), effective: await settings.effective(id) };
  }

  @Put(':id/settings')
  @ApiOperation({
    summary:
      'Replace the shop settings: mode, rolloutPercent, holdoutPercent, emailConsentPolicy, pauseWhileTicketOpen, supportTicketMatch (mentions | any), postalAddress, storeName, quietHours, domainAliases, utm, fatigue, engagementScore, channelChoice (costs per channel), klaviyoMode (html | template), sendTime (enabled, armPercent, windowHours, minDelayHours, priorStrength), alternatives ({ maxPriceIncreasePercent }), routing (enabled, highProbability, lowProbability, highValue, sequences { personal, short, nurture }: ids in the catalogue), experiments, incentives, policyControl ({ percent }: share of live recoveries run under the fixed rules, RFC 0021)',
  })
  async putSettings(@Param('id', IdPipe) id: string, @Body() body: Record<string, unknown>) {
    await this.shop(id);
    const errors = validateShopSettings(body ?? {});
    if (errors.length > 0) throw invalid(errors);
    const submitted = body as ShopRecoverySettings;
    const routingErrors = [
      ...validateEffectiveRouting(this.runtime.config.recovery, submitted),
      ...validateRoutingSequences(submitted, await this.runtime.engine.sequences.current(id)),
    ];
    if (routingErrors.length > 0) throw invalid(routingErrors);
    const { settings } = this.runtime.engine;
    await settings.save(id, body as ShopRecoverySettings);
    return { shopId: id, stored: await settings.get(id), effective: await settings.effective(id) };
  }

  @Get(':id/sequences')
  @ApiOperation({ summary: 'The current sequence catalogue (the built-in defaults are version 1)' })
  async getSequences(@Param('id', IdPipe) id: string): Promise<SequenceCatalogue> {
    await this.shop(id);
    return this.runtime.engine.sequences.current(id);
  }

  @Put(':id/sequences')
  @ApiOperation({ summary: 'Store a new catalogue version { sequences: [...] }; running recoveries keep theirs' })
  async putSequences(
    @Param('id', IdPipe) id: string,
    @Body() body: Record<string, unknown>,
  ): Promise<SequenceCatalogue> {
    await this.shop(id);
    const sequences = body?.sequences;
    if (!Array.isArray(sequences) || sequences.length === 0) {
      throw invalid([{ field: 'sequences', message: 'must be a non-empty list of sequence definitions' }]);
    }
    const bad = sequences.flatMap((s, i) =>
      typeof s !== 'object' || s === null || Array.isArray(s)
        ? [{ field: `sequences[${i}]`, message: 'must be an object' }]
        : [],
    );
    if (bad.length > 0) throw invalid(bad);
    // The sequences routing by score names must stay in the catalogue.
    const ids = sequences.map((s: { id?: unknown }) => s.id).filter((v): v is string => typeof v === 'string');
    const missing = validateRoutingSequences(
      await this.runtime.engine.settings.get(id),
      { version: 0, sequences: ids.map((sid) => ({ id: sid }) as SequenceDefinition) },
      'sequences',
    );
    if (missing.length > 0) throw invalid(missing);
    try {
      return await this.runtime.engine.sequences.save(id, sequences as SequenceDefinition[]);
    } catch (err) {
      if (err instanceof InvalidSequenceCatalogueError) throw invalid(err.errors);
      if (err instanceof TypeError) throw invalid([{ field: 'sequences', message: 'malformed sequence definition' }]);
      throw err;
    }
  }

  @Get(':id/sequences/history')
  @ApiOperation({ summary: 'Every stored catalogue version, oldest first' })
  async sequenceHistory(@Param('id', IdPipe) id: string): Promise<SequenceCatalogue[]> {
    await this.shop(id);
    return this.runtime.engine.sequences.history(id);
  }

  @Get(':id/templates')
  @ApiOperation({ summary: "The shop's template overrides" })
  async listTemplates(@Param('id', IdPipe) id: string) {
    await this.shop(id);
    return this.runtime.engine.templates.list(id);
  }

  @Put(':id/templates/:templateId')
  @ApiOperation({
    summary:
      'Override a template: { channel: "email", subject, mjml, text } or { channel: "sms", text } (compiled and checked before it is stored)',
  })
  async putTemplate(
    @Param('id', IdPipe) id: string,
    @Param('templateId') templateId: string,
    @Body() body: Record<string, unknown>,
  ) {
    await this.shop(id);
    if (!TEMPLATE_ID.test(templateId)) {
      throw invalid([
        { field: 'templateId', message: 'must be lowercase letters, digits and dashes (e.g. welcome-0)' },
      ]);
    }
    const source = templateSource(body ?? {});
    if (!('channel' in source)) throw invalid(source.errors);
    try {
      await this.runtime.engine.templates.save(id, templateId, source);
    } catch (err) {
      if (err instanceof InvalidTemplateError) throw invalid(err.errors);
      throw err;
    }
    return { shopId: id, templateId, channel: source.channel };
  }

  @Get(':id/outbox')
  @AdminOnly()
  @ApiOperation({ summary: 'Emails the local outbox channel holds (what would have been sent), recipients masked' })
  async outbox(
    @Param('id', IdPipe) id: string,
    @Query('limit') limit?: string,
    @Query('recoveryId') recoveryId?: string,
  ): Promise<OutboxEntry[]> {
    await this.shop(id);
    const n = limit === undefined ? 50 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 500) throw invalid([{ field: 'limit', message: 'must be 1 to 500' }]);
    return this.runtime.engine.outbox.list(id, { limit: n, ...(recoveryId ? { recoveryId } : {}) });
  }

  private async shop(id: string) {
    const shop = await this.runtime.shops.get(id);
    if (!shop) throw new NotFoundException(`no shop ${id}`);
    return shop;
  }
}

function templateSource(body: Record<string, unknown>): TemplateSource | { errors: ValidationError[] } {
  const errors: ValidationError[] = [];
  const str = (field: string) => {
    if (typeof body[field] !== 'string' || (body[field] as string).trim() === '') {
      errors.push({ field, message: 'must be a non-empty string' });
    }
    return body[field] as string;
  };
  if (body.channel === 'email') {
    const allowed = ['channel', 'subject', 'mjml', 'text'];
    for (const k of Object.keys(body)) if (!allowed.includes(k)) errors.push({ field: k, message: 'is not allowed' });
    const source = { channel: 'email' as const, subject: str('subject'), mjml: str('mjml'), text: str('text') };
    return errors.length > 0 ? { errors } : source;
  }
  if (body.channel === 'sms') {
    for (const k of Object.keys(body)) {
      if (k !== 'channel' && k !== 'text') errors.push({ field: k, message: 'is not allowed' });
    }
    const source = { channel: 'sms' as const, text: str('text') };
    return errors.length > 0 ? { errors } : source;
  }
  return { errors: [{ field: 'channel', message: 'must be email or sms' }] };
}
