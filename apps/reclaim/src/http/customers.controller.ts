import { Controller, Get, Inject, NotFoundException, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { customerHistory, type CustomerHistory } from '@reclaim/application';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';
import { AdminAuthGuard } from './admin-auth.guard';
import { invalid } from './recovery-admin.controller';

const CUSTOMER_KEY = /^[etp]-[A-Za-z0-9._:-]{1,200}$/;

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
      "The customer's chronological recovery history: every step sent, skipped or deferred, with its reason and the decision inputs",
  })
  async history(@Param('shopId') shopId: string, @Param('customerKey') customerKey: string): Promise<CustomerHistory> {
    if (!(await this.runtime.shops.get(shopId))) throw new NotFoundException(`no shop ${shopId}`);
    if (!CUSTOMER_KEY.test(customerKey)) {
      throw invalid([{ field: 'customerKey', message: 'must be a customer key such as e-<hex>, t-<hex> or p-<id>' }]);
    }
    return historyOf(this.runtime, shopId, customerKey);
  }
}
