import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { invalid } from './bad-request';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a shop id (or any id the admin API hands out): a UUID. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/**
 * Validates an id taken from the path or the query of an admin route (`:id`, `:shopId`,
 * `?shopId=`): a malformed id is a 400 naming the parameter, never a database error (500).
 * Unknown but well-formed ids reach the handler, which answers 404. A missing query value passes
 * through (the handler says whether it is required).
 */
@Injectable()
export class IdPipe implements PipeTransform<unknown, string | undefined> {
  transform(value: unknown, meta: ArgumentMetadata): string | undefined {
    if (meta.type === 'query' && (value === undefined || value === '')) return undefined;
    if (!isUuid(value)) throw invalid([{ field: meta.data ?? 'id', message: 'must be an id (a UUID)' }]);
    return value.toLowerCase();
  }
}

/** As {@link IdPipe}, also accepting `all` (the dashboard's every-shop view). */
@Injectable()
export class ShopIdOrAllPipe extends IdPipe {
  override transform(value: unknown, meta: ArgumentMetadata): string | undefined {
    return value === 'all' ? 'all' : super.transform(value, meta);
  }
}
