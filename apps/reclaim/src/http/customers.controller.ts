import { Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { customerHistory, type CustomerHistory } from '@reclaim/application';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';
import { AdminAuthGuard } from './admin-auth.guard';
import { invalid } from './recovery-admin.controller';
import { IdPipe } from './ids';

const CUSTOMER_KEY = /^[etp]-[A-Za-z0-9._:-]{1,200}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** The customer key of an e-mail address in a shop (keyed hash from the vault; the address is not stored). */
export function customerKeyOfEmail(runtime: Runtime, shopId: string, email: string): string | undefined {
  const address = email.trim();
  if (!EMAIL.test(address) || address.length > 320) return undefined;
  return runtime.vault.subjectFor(shopId, { email: address });
}

/** The recovery history of one customer, from the event log (also `npm run cli -- history`). */
export async function historyOf(runtime: Runtime, shopId: string, customerKey: string): Promise<CustomerHistory> {
  const { rows } = await runtime.pool.query<{ recovery_id: string }>(
    'SELECT recovery_id FROM engine.customer_recoveries WHERE shop_id = $1 AND customer_key = $2',
    [shopId, customerKey],
  );
  // The index is written by the recovery feed; without an entry, scan the log (slower, always right).
  return customerHistory(
    runtime.store,
    shopId,
    customerKey,
    rows.length > 0 ? { recoveryIds: rows.map((r) => r.recovery_id) } : {},
  );
}

@ApiTags('recovery')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/customers')
export class CustomersController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  @Get(':shopId/:customerKey/history')
  @ApiOperation({
    summary:
      "The customer's recovery history in log order (global position), each entry with its outside time and when it was recorded: every step sent, skipped or deferred, with its reason and the decision inputs",
  })
  async history(
    @Param('shopId', IdPipe) shopId: string,
    @Param('customerKey') customerKey: string,
  ): Promise<CustomerHistory> {
    if (!(await this.runtime.shops.get(shopId))) throw new NotFoundException(`no shop ${shopId}`);
    if (!CUSTOMER_KEY.test(customerKey)) {
      throw invalid([{ field: 'customerKey', message: 'must be a customer key such as e-<hex>, t-<hex> or p-<id>' }]);
    }
    return historyOf(this.runtime, shopId, customerKey);
  }

  @Post(':shopId/history')
  @HttpCode(200)
  @ApiOperation({
    summary: "A customer's recovery history looked up by e-mail address",
    description:
      'The address travels in the body, never in the URL (so neither access logs nor proxies see it), and is ' +
      'neither stored nor logged: the vault turns it into the customer key (also in the answer). Admin token only. ' +
      'Also `npm run cli -- history <shopId> <email>`.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['email'],
      properties: { email: { type: 'string', format: 'email', maxLength: 320 } },
      example: { email: 'ada@example.com' },
    },
  })
  async historyByEmail(@Param('shopId', IdPipe) shopId: string, @Body() body: unknown): Promise<CustomerHistory> {
    if (!(await this.runtime.shops.get(shopId))) throw new NotFoundException(`no shop ${shopId}`);
    const email = typeof body === 'object' && body !== null ? (body as { email?: unknown }).email : undefined;
    const key = typeof email === 'string' ? customerKeyOfEmail(this.runtime, shopId, email) : undefined;
    if (key === undefined) throw invalid([{ field: 'email', message: 'must be an e-mail address' }]);
    return historyOf(this.runtime, shopId, key);
  }
}
