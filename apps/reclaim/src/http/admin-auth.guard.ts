import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { timingSafeEqual } from 'node:crypto';
import { API_TOKEN_PREFIX, type ApiTokenGrant } from '@reclaim/application';
import type { Runtime } from '../runtime/runtime';
import { hashToken, RUNTIME } from '../runtime/runtime.token';

/**
 * Admin API auth (R19): `Authorization: Bearer <token>`. Tokens are kept only as SHA-256 hashes
 * and compared in constant time (the settings' tokens) or looked up by hash (tokens created with
 * `POST /api/tokens` or `npm run cli -- tokens create`). Admin tokens may do everything; analyst
 * tokens may only read (GET/HEAD) — anything else is 403.
 *
 * A token scoped to shops reaches only routes that name one of its shops (`:shopId`, `:id` under
 * `/api/shops/`, `?shopId=`); another shop's id answers 404 (as if it did not exist, R18), a
 * route that spans every shop answers 403, and `GET /api/shops` lists only its shops.
 */
const ADMIN_ONLY = 'reclaim:admin-only';
const ALL_SHOPS = 'reclaim:all-shops';
const SCOPE_FILTERED = 'reclaim:scope-filtered';

/** Routes that show message content or personal data (even masked): the analyst token may not read them. */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);
/** Routes that act on the appliance as a whole (register shops, manage tokens): unscoped tokens only. */
export const AllShops = () => SetMetadata(ALL_SHOPS, true);
/** Routes without a shop id that filter their answer by the token's shops themselves. */
export const ScopeFiltered = () => SetMetadata(SCOPE_FILTERED, true);

/** What the request's token may do, set by the guard. */
export interface AuthenticatedRequest {
  reclaimGrant?: ApiTokenGrant;
}

interface GuardedRequest extends AuthenticatedRequest {
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  params?: Record<string, string | undefined>;
  query?: Record<string, unknown>;
}

@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    @Inject(RUNTIME) private readonly runtime: Runtime,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<GuardedRequest>();
    const header = req.headers['authorization'] ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new UnauthorizedException('missing bearer token in the Authorization header');
    const grant = await this.grantOf(m[1] as string);
    if (!grant) throw new UnauthorizedException('invalid token');
    const flag = (key: string) =>
      this.reflector.getAllAndOverride<boolean>(key, [context.getHandler(), context.getClass()]) === true;
    if (grant.role === 'analyst') {
      if (flag(ADMIN_ONLY)) throw new ForbiddenException('this resource needs an admin token');
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new ForbiddenException('analyst tokens are read-only');
    }
    if (grant.shopIds !== null) {
      if (flag(ALL_SHOPS)) throw new ForbiddenException('this route needs a token that is not scoped to shops');
      const shopId = shopIdOf(req);
      if (shopId === undefined) {
        if (!flag(SCOPE_FILTERED)) {
          throw new ForbiddenException('this token is scoped to shops: this route spans every shop (name a shopId)');
        }
      } else if (!grant.shopIds.includes(shopId.toLowerCase())) {
        throw new NotFoundException(`no shop ${shopId.slice(0, 64)}`);
      }
    }
    req.reclaimGrant = grant;
    return true;
  }

  private async grantOf(token: string): Promise<ApiTokenGrant | null> {
    const presented = hashToken(token);
    const { adminHash, analystHash } = this.runtime.tokens;
    if (matches(presented, adminHash)) return { tokenId: 'ADMIN_TOKEN', role: 'admin', shopIds: null };
    if (analystHash && matches(presented, analystHash)) {
      return { tokenId: 'ANALYST_TOKEN', role: 'analyst', shopIds: null };
    }
    if (!token.startsWith(API_TOKEN_PREFIX)) return null;
    try {
      return await this.runtime.apiTokens.grantFor(presented);
    } catch {
      throw new ServiceUnavailableException('the database is unavailable; retry later');
    }
  }
}

function shopIdOf(req: GuardedRequest): string | undefined {
  const params = req.params ?? {};
  const fromQuery = req.query?.['shopId'];
  const path = req.url.split('?')[0] ?? '';
  const id = params['shopId'] ?? (path.startsWith('/api/shops/') ? params['id'] : undefined);
  if (typeof id === 'string' && id !== '') return id;
  // `?shopId=all` (the dashboard's every-shop view) spans every shop, like no shop id at all.
  return typeof fromQuery === 'string' && fromQuery !== '' && fromQuery !== 'all' ? fromQuery : undefined;
}

function matches(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
