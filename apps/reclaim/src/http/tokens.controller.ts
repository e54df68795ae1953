import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { UnknownShopInScopeError, type ApiToken } from '@reclaim/application';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';
import { AdminAuthGuard, AdminOnly, AllShops } from './admin-auth.guard';
import { invalid } from './bad-request';
import { IdPipe } from './ids';

export class CreateTokenDto {
  @ApiProperty({ description: 'a label for the operator (who or what uses it)', example: 'agency dashboard' })
  @IsString()
  @MaxLength(100)
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  @Matches(/^[^\u0000-\u001f\u007f]+$/, { message: 'name must be printable text' })
  name!: string;

  @ApiProperty({ enum: ['admin', 'analyst'] })
  @IsIn(['admin', 'analyst'])
  role!: 'admin' | 'analyst';

  @ApiPropertyOptional({ description: 'the shops it may act on; omit for every shop', type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true, message: 'shopIds must be shop ids (UUIDs)' })
  shopIds?: string[];
}

export interface TokenView {
  id: string;
  name: string;
  role: 'admin' | 'analyst';
  shopIds: readonly string[] | null;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/**
 * Admin API tokens an operator manages (R19): created with a role and optionally a list of
 * shops, shown once, stored as a hash, listed without the secret, revoked by id. Only an admin
 * token that is not scoped to shops may manage tokens. `ADMIN_TOKEN`/`ANALYST_TOKEN` keep working.
 */
@ApiTags('tokens')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@AdminOnly()
@AllShops()
@Controller('api/tokens')
export class TokensController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  @Post()
  @ApiOperation({
    summary: 'Create an API token (admin or analyst, optionally scoped to shops); the secret is shown once',
  })
  async create(@Body() body: CreateTokenDto): Promise<TokenView & { token: string }> {
    try {
      const { token, secret } = await this.runtime.apiTokens.create(body);
      return { ...view(token), token: secret };
    } catch (err) {
      if (err instanceof UnknownShopInScopeError) throw invalid([{ field: 'shopIds', message: err.message }]);
      throw err;
    }
  }

  @Get()
  @ApiOperation({ summary: 'List API tokens (never their secrets)' })
  async list(): Promise<TokenView[]> {
    return (await this.runtime.apiTokens.list()).map(view);
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API token (idempotent)' })
  async revoke(@Param('id', IdPipe) id: string): Promise<TokenView> {
    const token = await this.runtime.apiTokens.revoke(id);
    if (!token) throw new NotFoundException(`no token ${id}`);
    return view(token);
  }
}

export function view(t: ApiToken): TokenView {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    shopIds: t.shopIds,
    createdAt: t.createdAt.toISOString(),
    revokedAt: t.revokedAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  };
}
