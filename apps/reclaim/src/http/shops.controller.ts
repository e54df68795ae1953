import {
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Req,
  UnprocessableEntityException,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsISO4217CurrencyCode,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
  MinLength,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { parseDuration, type Platform } from '@reclaim/domain';
import { ShopAlreadyRegisteredError, type ConnectionReport, type Shop } from '@reclaim/application';
import { StoreConnectionError } from '@reclaim/ports';
import { normalizeShopDomain } from '@reclaim/platforms';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';
import { AdminAuthGuard, AllShops, ScopeFiltered, type AuthenticatedRequest } from './admin-auth.guard';
import { IdPipe } from './ids';
import { invalid } from './bad-request';
import { checkOutboundUrl, OutboundAddressRefusedError } from '@reclaim/http';

@ValidatorConstraint({ name: 'ianaTimeZone' })
class IsIanaTimeZone implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string' || !value) return false;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      return true;
    } catch {
      return false;
    }
  }
  defaultMessage(): string {
    return 'timezone must be an IANA time zone such as Europe/Berlin';
  }
}

/**
 * Values that are obviously not a real secret or token: a documentation placeholder such as the
 * README's `<app secret>`, a stock word, or one character repeated.
 */
const PLACEHOLDER_WORDS = new Set([
  'changeme',
  'change-me',
  'change_me',
  'secret',
  'password',
  'your-secret',
  'yoursecret',
  'placeholder',
  'example',
]);

export function isPlaceholderSecret(value: string): boolean {
  const v = value.trim();
  return /<[^>]*>|\{\{.*\}\}|\$\{.*\}/.test(v) || PLACEHOLDER_WORDS.has(v.toLowerCase()) || /^(.)\1*$/.test(v);
}

@ValidatorConstraint({ name: 'notPlaceholder' })
class IsNotPlaceholder implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value !== 'string' || !isPlaceholderSecret(value);
  }
  defaultMessage(args?: { property: string }): string {
    return `${args?.property ?? 'value'} is a placeholder, not a real credential: paste the value from the store's admin`;
  }
}

const PLATFORMS: Platform[] = ['shopify', 'bigcommerce', 'woocommerce'];

export class RegisterShopDto {
  @ApiProperty({ enum: PLATFORMS })
  @IsIn(PLATFORMS, { message: `platform must be one of ${PLATFORMS.join(', ')}` })
  platform!: Platform;

  @ApiProperty({
    example: 'my-shop.myshopify.com',
    description: 'Shopify: *.myshopify.com; BigCommerce: the store hash; WooCommerce: the store URL',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  shopDomain!: string;

  @ApiProperty({
    description:
      'The secret the store signs webhooks with (Shopify app secret, WooCommerce webhook secret, BigCommerce whsec_… or custom-header secret)',
  })
  @IsString()
  @MinLength(8, { message: 'webhookSecret must be at least 8 characters' })
  @MaxLength(512)
  @Validate(IsNotPlaceholder)
  webhookSecret!: string;

  @ApiProperty({ example: 'https://my-shop.myshopify.com/admin/api/2025-01' })
  @IsUrl(
    { require_tld: false, protocols: ['http', 'https'], require_protocol: true },
    { message: 'apiUrl must be an http(s) URL' },
  )
  apiUrl!: string;

  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  @Validate(IsNotPlaceholder)
  apiToken!: string;

  @ApiProperty({ example: 'USD' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO 4217 code such as USD' })
  currency!: string;

  @ApiProperty({ example: 'America/New_York' })
  @Validate(IsIanaTimeZone)
  timezone!: string;

  @ApiPropertyOptional({
    default: true,
    description:
      'false: the merchant creates the webhook subscriptions by hand; GET /api/shops/{id}/connection lists what is missing',
  })
  @IsOptional()
  @IsBoolean({ message: 'registerWebhooks must be true or false' })
  registerWebhooks?: boolean;
}

export class RotateSecretDto {
  @ApiProperty()
  @IsString()
  @MinLength(8, { message: 'webhookSecret must be at least 8 characters' })
  @MaxLength(512)
  @Validate(IsNotPlaceholder)
  webhookSecret!: string;

  @ApiPropertyOptional({
    example: '24h',
    description: 'How long the previous secret stays valid (default SECRET_ROTATION_WINDOW)',
  })
  @IsOptional()
  @Matches(/^\d+(ms|s|m|h|d)$/, { message: 'previousValidFor must be a duration like 24h' })
  previousValidFor?: string;
}

/** The admin view of a shop: never its secrets. */
export interface ShopView {
  id: string;
  platform: Platform;
  shopDomain: string;
  currency: string;
  timezone: string;
  apiUrl: string;
  createdAt: string;
  secretRotatedAt: string | null;
  previousSecretValidUntil: string | null;
  webhookUrl: string;
  registerWebhooks: boolean;
}

function unprocessable(err: StoreConnectionError): UnprocessableEntityException {
  return new UnprocessableEntityException({
    statusCode: 422,
    error: 'Unprocessable Entity',
    message: err.message,
    failure: err.failure,
    ...(err.missingScopes.length > 0 ? { missingScopes: err.missingScopes } : {}),
  });
}

@ApiTags('shops')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/shops')
export class ShopsController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  @Post()
  @AllShops()
  @ApiOperation({
    summary:
      'Register a shop: verifies the credentials against the store (422 naming what failed), registers its webhook subscriptions (unless registerWebhooks is false), then saves it; returns its webhook URL, the connection and, for WooCommerce, the CartFlows URL once',
  })
  async register(
    @Body() body: RegisterShopDto,
  ): Promise<ShopView & { cartflowsUrl?: string; connection: ConnectionReport }> {
    const shopDomain = normalizeShopDomain(body.platform, body.shopDomain);
    // R22: no store API on this machine, its link-local/metadata addresses or (without the opt-in) the private network.
    try {
      await checkOutboundUrl(body.apiUrl);
    } catch (err) {
      if (err instanceof OutboundAddressRefusedError) throw invalid([{ field: 'apiUrl', message: err.message }]);
      throw err;
    }
    try {
      const { shop, cartflowsToken, connection } = await this.runtime.connections.register({ ...body, shopDomain });
      const view = { ...this.view(shop), connection };
      return cartflowsToken
        ? { ...view, cartflowsUrl: `${this.baseUrl()}/webhooks/woocommerce/cartflows/${cartflowsToken}` }
        : view;
    } catch (err) {
      if (err instanceof ShopAlreadyRegisteredError) throw new ConflictException(err.message);
      if (err instanceof StoreConnectionError) throw unprocessable(err);
      throw err;
    }
  }

  @Get(':id/connection')
  @ApiOperation({
    summary:
      "The shop's connection: credentials status, granted vs required scopes, each webhook subscription's state (ok / missing / drifted / manual)",
  })
  async connection(@Param('id', IdPipe) id: string): Promise<ConnectionReport> {
    const report = await this.runtime.connections.inspect(id);
    if (!report) throw new NotFoundException(`no shop ${id}`);
    return report;
  }

  @Post(':id/connection/repair')
  @HttpCode(200)
  @ApiOperation({ summary: 'Create the missing webhook subscriptions and repair the drifted ones (idempotent)' })
  async repair(@Param('id', IdPipe) id: string): Promise<ConnectionReport> {
    try {
      const report = await this.runtime.connections.repair(id);
      if (!report) throw new NotFoundException(`no shop ${id}`);
      return report;
    } catch (err) {
      if (err instanceof StoreConnectionError) throw unprocessable(err);
      throw err;
    }
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Delete a shop: removes its webhook subscriptions on the platform, purges its data (the shop/redact path: read models, crypto-shredded keys) and forgets it',
  })
  async remove(
    @Param('id', IdPipe) id: string,
  ): Promise<{ deleted: true; removedSubscriptions: number; subscriptionsError?: string }> {
    const result = await this.runtime.connections.remove(id);
    if (!result) throw new NotFoundException(`no shop ${id}`);
    return { deleted: true, ...result };
  }

  @Get()
  @ScopeFiltered()
  @ApiOperation({ summary: 'List shops (without secrets); a token scoped to shops sees only its shops' })
  async list(@Req() req: AuthenticatedRequest): Promise<ShopView[]> {
    const scope = req.reclaimGrant?.shopIds ?? null;
    return (await this.runtime.shops.list())
      .filter((s) => scope === null || scope.includes(s.id))
      .map((s) => this.view(s));
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Rotate the webhook secret; the previous one is accepted for a window. Subscriptions the appliance manages get the new secret on the platform (BigCommerce header, WooCommerce signing secret); a store that cannot be updated is reported in subscriptionsError (the rotation stands: run …/connection/repair)',
  })
  async rotate(
    @Param('id', IdPipe) id: string,
    @Body() body: RotateSecretDto,
  ): Promise<ShopView & { connection?: ConnectionReport; subscriptionsError?: string }> {
    const windowMs = parseDuration(body.previousValidFor ?? this.runtime.config.SECRET_ROTATION_WINDOW);
    const shop = await this.runtime.shops.rotateWebhookSecret(id, body.webhookSecret, windowMs);
    if (!shop) throw new NotFoundException(`no shop ${id}`);
    try {
      const connection = await this.runtime.connections.afterSecretRotation(shop.id);
      return { ...this.view(shop), ...(connection !== undefined ? { connection } : {}) };
    } catch (err) {
      if (!(err instanceof StoreConnectionError)) throw err;
      return { ...this.view(shop), subscriptionsError: err.message };
    }
  }

  private baseUrl(): string {
    return (this.runtime.config.PUBLIC_URL ?? `http://localhost:${this.runtime.config.PORT}`).replace(/\/+$/, '');
  }

  private view(shop: Shop): ShopView {
    return {
      id: shop.id,
      platform: shop.platform,
      shopDomain: shop.shopDomain,
      currency: shop.currency,
      timezone: shop.timezone,
      apiUrl: shop.apiUrl,
      createdAt: shop.createdAt.toISOString(),
      secretRotatedAt: shop.secretRotatedAt?.toISOString() ?? null,
      previousSecretValidUntil: shop.previousSecretValidUntil?.toISOString() ?? null,
      webhookUrl: `${this.baseUrl()}/webhooks/${shop.platform}`,
      registerWebhooks: shop.registerWebhooks,
    };
  }
}
