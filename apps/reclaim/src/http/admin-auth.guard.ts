import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { timingSafeEqual } from 'node:crypto';
import type { Runtime } from '../runtime/runtime';
import { hashToken, RUNTIME } from '../runtime/runtime.token';

/**
 * Admin API auth (R19): `Authorization: Bearer <token>`. Tokens are kept only as SHA-256 hashes
 * in memory and compared in constant time. The admin token may do everything; the analyst token
 * may only read (GET/HEAD) — anything else is 403.
 */
const ADMIN_ONLY = 'reclaim:admin-only';

/** Routes that show message content or personal data (even masked): the analyst token may not read them. */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    @Inject(RUNTIME) private readonly runtime: Runtime,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ method: string; headers: Record<string, string | undefined> }>();
    const header = req.headers['authorization'] ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new UnauthorizedException('missing bearer token in the Authorization header');
    const presented = hashToken(m[1]);
    if (matches(presented, this.runtime.tokens.adminHash)) return true;
    if (this.runtime.tokens.analystHash && matches(presented, this.runtime.tokens.analystHash)) {
      const adminOnly = this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, [
        context.getHandler(),
        context.getClass(),
      ]);
      if (adminOnly) throw new ForbiddenException('this resource needs the admin token');
      if (req.method === 'GET' || req.method === 'HEAD') return true;
      throw new ForbiddenException('the analyst token is read-only');
    }
    throw new UnauthorizedException('invalid token');
  }
}

function matches(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
