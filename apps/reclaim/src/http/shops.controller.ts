import {
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import {
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
import { ShopAlreadyRegisteredError, type Shop } from '@reclaim/application';
import { normalizeShopDomain } from '@reclaim/platforms';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';
import { AdminAuthGuard } from './admin-auth.guard';

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
  apiToken!: string;

  @ApiProperty({ example: 'USD' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO 4217 code such as USD' })
  currency!: string;

  @ApiProperty({ example: 'America/New_York' })
  @Validate(IsIanaTimeZone)
  timezone!: string;
}

export class RotateSecretDto {
  @ApiProperty()
  @IsString()
  @MinLength(8, { message: 'webhookSecret must be at least 8 characters' })
  @MaxLength(512)
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
}

@ApiTags('shops')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/shops')
export class ShopsController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  @Post()
  @ApiOperation({ summary: 'Register a shop; returns its webhook URL (and, for WooCommerce, the CartFlows URL once)' })
  async register(@Body() body: RegisterShopDto): Promise<ShopView & { cartflowsUrl?: string }> {
    const shopDomain = normalizeShopDomain(body.platform, body.shopDomain);
    try {
      const { shop, cartflowsToken } = await this.runtime.shops.register({ ...body, shopDomain });
      const view = this.view(shop);
      return cartflowsToken
        ? { ...view, cartflowsUrl: `${this.baseUrl()}/webhooks/woocommerce/cartflows/${cartflowsToken}` }
        : view;
    } catch (err) {
      if (err instanceof ShopAlreadyRegisteredError) throw new ConflictException(err.message);
      throw err;
    }
  }

  @Get()
  @ApiOperation({ summary: 'List shops (without secrets)' })
  async list(): Promise<ShopView[]> {
    return (await this.runtime.shops.list()).map((s) => this.view(s));
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rotate the webhook secret; the previous one is accepted for a window' })
  async rotate(@Param('id') id: string, @Body() body: RotateSecretDto): Promise<ShopView> {
    const windowMs = parseDuration(body.previousValidFor ?? this.runtime.config.SECRET_ROTATION_WINDOW);
    const shop = await this.runtime.shops.rotateWebhookSecret(id, body.webhookSecret, windowMs);
    if (!shop) throw new NotFoundException(`no shop ${id}`);
    return this.view(shop);
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
    };
  }
}
