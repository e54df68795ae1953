import {
  BadGatewayException,
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { defaultTemplateFor, type PreviewRequest, type TemplateSource } from '@reclaim/application';
import type { ValidationError } from '@reclaim/domain';
import { recentCarts } from '@reclaim/read-models/queries/dashboard';
import type { Runtime } from '../../runtime/runtime';
import { RUNTIME } from '../../runtime/runtime.token';
import { AdminAuthGuard, AdminOnly } from '../admin-auth.guard';
import { invalid } from '../recovery-admin.controller';
import { IdPipe } from '../ids';

const TEMPLATE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * The dashboard's template editor: a step's e-mail template as it is in effect, a live preview of
 * a draft rendered with a recent cart of the shop (or a sample cart), and a test send to an address
 * the merchant types. Publishing uses the versioned API underneath (`PUT /api/shops/:id/templates/:t`
 * then `PUT /api/shops/:id/sequences`), so running recoveries keep the version they started with.
 */
@ApiTags('dashboard')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/dashboard/editor')
export class DashboardEditorController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  @Get('templates/:templateId')
  @ApiOperation({
    summary: "A template's source as in effect for the shop: its override, else the built-in default (email)",
  })
  async template(@Param('templateId') templateId: string, @Query('shopId', IdPipe) shopId?: string) {
    await this.shop(shopId);
    if (!TEMPLATE_ID.test(templateId)) {
      throw invalid([{ field: 'templateId', message: 'must be lowercase letters, digits and dashes' }]);
    }
    const override = await this.runtime.engine.templates.findTemplate(shopId as string, templateId, 'email');
    if (override !== undefined && override.channel === 'email') {
      return { templateId, origin: 'override', source: override };
    }
    const kind = templateId.startsWith('help-') ? 'help' : 'sales';
    const { source, fallback } = defaultTemplateFor(templateId, kind, 'email');
    return { templateId, origin: fallback ? 'fallback' : 'default', source };
  }

  @Get('carts')
  @ApiOperation({
    summary: "The shop's most recently abandoned carts (ids, sizes): what a preview can be rendered with",
  })
  async carts(@Query('shopId', IdPipe) shopId?: string) {
    await this.shop(shopId);
    return recentCarts(this.runtime.pool, shopId as string);
  }

  @Post('preview')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Render a draft { shopId, templateId, step, subject, mjml, text, cartId?, discountPercent? } with a cart of the shop (or a sample cart): { ok: true, subject, html, text } or { ok: false, field, error } naming the MJML/Handlebars problem',
  })
  async preview(@Body() body: Record<string, unknown>) {
    const request = await this.request(body ?? {});
    return this.runtime.engine.previews.preview(request);
  }

  @Post('test-send')
  @AdminOnly()
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Send the rendered draft to { to } through the shop\'s e-mail channel, subject prefixed "[Test]". Recorded (masked recipient) in the test-send list; never a recovery. 400 names the bad field, 502 when the provider refuses.',
  })
  async testSend(@Body() body: Record<string, unknown>) {
    const request = await this.request(body ?? {});
    if (typeof body?.to !== 'string') throw invalid([{ field: 'to', message: 'must be an e-mail address' }]);
    const result = await this.runtime.engine.previews.testSend({ ...request, to: body.to });
    if (result.ok) return result;
    if (result.field === 'channel') throw new BadGatewayException(result.error);
    throw invalid([{ field: result.field, message: result.error }]);
  }

  @Get('test-sends')
  @ApiOperation({ summary: "The shop's test sends, newest first (masked recipients)" })
  async testSends(@Query('shopId', IdPipe) shopId?: string) {
    await this.shop(shopId);
    return this.runtime.engine.previews.testSends(shopId as string);
  }

  private async request(body: Record<string, unknown>): Promise<PreviewRequest> {
    const errors: ValidationError[] = [];
    const text = (field: string, required: boolean) => {
      const v = body[field];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'string' || v.trim() === '') errors.push({ field, message: 'must be a non-empty string' });
      return v as string;
    };
    const shopId = text('shopId', true) as string;
    const templateId = text('templateId', true) as string;
    if (typeof templateId === 'string' && !TEMPLATE_ID.test(templateId)) {
      errors.push({ field: 'templateId', message: 'must be lowercase letters, digits and dashes' });
    }
    const subject = text('subject', true) as string;
    const mjml = text('mjml', true) as string;
    const plain = text('text', true) as string;
    const cartId = text('cartId', false);
    const step = body.step;
    if (step !== undefined && (typeof step !== 'number' || !Number.isInteger(step) || step < 0)) {
      errors.push({ field: 'step', message: 'must be a step index (0, 1, …)' });
    }
    const percent = body.discountPercent;
    if (percent !== undefined && (typeof percent !== 'number' || !(percent >= 0 && percent <= 100))) {
      errors.push({ field: 'discountPercent', message: 'must be a number from 0 to 100' });
    }
    if (errors.length > 0) throw invalid(errors);
    await this.shop(shopId);
    const draft: TemplateSource = { channel: 'email', subject, mjml, text: plain };
    return {
      shopId,
      templateId,
      draft,
      ...(typeof step === 'number' ? { step } : {}),
      ...(cartId !== undefined ? { cartId } : {}),
      ...(typeof percent === 'number' ? { discountPercent: percent } : {}),
    };
  }

  private async shop(shopId: string | undefined) {
    if (typeof shopId !== 'string' || shopId === '') throw invalid([{ field: 'shopId', message: 'is required' }]);
    const shop = await this.runtime.shops.get(shopId);
    if (!shop) throw new NotFoundException(`no shop ${shopId}`);
    return shop;
  }
}
