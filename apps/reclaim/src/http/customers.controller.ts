import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  customerDataExport,
  customerHistory,
  type CustomerDataExport,
  type CustomerHistory,
} from '@reclaim/application';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';
import { AdminAuthGuard, AdminOnly } from './admin-auth.guard';
import { invalid } from './recovery-admin.controller';
import { IdPipe } from './ids';

const CUSTOMER_KEY = /^[etp]-[A-Za-z0-9._:-]{1,200}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** The body of the look-ups by address: the address travels in the body, never in the URL. */
const EMAIL_BODY = {
  schema: {
    type: 'object' as const,
    required: ['email'],
    properties: { email: { type: 'string' as const, format: 'email', maxLength: 320 } },
    example: { email: 'ada@example.com' },
  },
};

/** The customer key of an e-mail address in a shop (keyed hash from the vault; the address is not stored). */
export function customerKeyOfEmail(runtime: Runtime, shopId: string, email: string): string | undefined {
  const address = email.trim();
  if (!EMAIL.test(address) || address.length > 320) return undefined;
  return runtime.vault.subjectFor(shopId, { email: address });
}

/** The recovery history of one customer, from the event log (also `npm run cli -- history`). */
export async function historyOf(runtime: Runtime, shopId: string, customerKey: string): Promise<CustomerHistory> {
  // The index is written by the recovery feed; without an entry, scan the log (slower, always right).
  const recoveryIds = await recoveryIdsOf(runtime, shopId, customerKey);
  return customerHistory(runtime.store, shopId, customerKey, recoveryIds ? { recoveryIds } : {});
}

async function recoveryIdsOf(runtime: Runtime, shopId: string, customerKey: string): Promise<string[] | undefined> {
  const { rows } = await runtime.pool.query<{ recovery_id: string }>(
    'SELECT recovery_id FROM engine.customer_recoveries WHERE shop_id = $1 AND customer_key = $2',
    [shopId, customerKey],
  );
  return rows.length > 0 ? rows.map((r) => r.recovery_id) : undefined;
}

/** Everything held about one customer (R29 data request), opened from the vault now; also `npm run cli -- export`. */
export async function exportOf(runtime: Runtime, shopId: string, customerKey: string): Promise<CustomerDataExport> {
  const recoveryIds = await recoveryIdsOf(runtime, shopId, customerKey);
  return customerDataExport(
    { store: runtime.store, vault: runtime.vault, now: runtime.clock },
    shopId,
    customerKey,
    recoveryIds ? { recoveryIds } : {},
  );
}

export interface DataRequestRow {
  readonly customerKey: string;
  readonly platform: string | null;
  readonly requestedAt: string;
  readonly redactedAt: string | null;
  /** Where the export is downloaded (admin token). */
  readonly exportUrl: string;
}

function sendExport(reply: FastifyReply, data: CustomerDataExport): void {
  const safeKey = data.customerKey.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
  void reply
    .header('content-type', 'application/json; charset=utf-8')
    .header('content-disposition', `attachment; filename="reclaim-customer-${safeKey}.json"`)
    .header('cache-control', 'no-store')
    .send(JSON.stringify(data, null, 2));
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
    await this.checkCustomer(shopId, customerKey);
    return historyOf(this.runtime, shopId, customerKey);
  }

  @Get(':shopId/data-requests')
  @ApiOperation({
    summary: "The shop's customer data requests (Shopify customers/data_request), newest first",
    description:
      'Customer keys only (no personal data), when each was requested, whether the customer was redacted since, ' +
      'and where the export is downloaded (admin token).',
  })
  async dataRequests(@Param('shopId', IdPipe) shopId: string): Promise<{ requests: DataRequestRow[] }> {
    if (!(await this.runtime.shops.get(shopId))) throw new NotFoundException(`no shop ${shopId}`);
    const { rows } = await this.runtime.pool.query<{
      customer_key: string;
      platform: string | null;
      data_requested_at: Date;
      redacted_at: Date | null;
    }>(
      `SELECT customer_key, platform, data_requested_at, redacted_at FROM read.customers
        WHERE shop_id = $1 AND data_requested_at IS NOT NULL ORDER BY data_requested_at DESC, customer_key LIMIT 1000`,
      [shopId],
    );
    return {
      requests: rows.map((r) => ({
        customerKey: r.customer_key,
        platform: r.platform,
        requestedAt: r.data_requested_at.toISOString(),
        redactedAt: r.redacted_at?.toISOString() ?? null,
        exportUrl: `/api/customers/${shopId}/${encodeURIComponent(r.customer_key)}/export`,
      })),
    };
  }

  @Get(':shopId/:customerKey/export')
  @AdminOnly()
  @ApiOperation({
    summary:
      'Everything held about the customer (R29 data request) as a JSON attachment: profile and carts with the contact details opened from the vault, recoveries and the full message history',
    description:
      'Read from the event log and the vault at the moment of the request, never kept elsewhere. After customers/redact ' +
      'the contact details are gone (`erased: true`, `contact: null`). Admin token only. Also `npm run cli -- export`.',
  })
  async export(
    @Param('shopId', IdPipe) shopId: string,
    @Param('customerKey') customerKey: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.checkCustomer(shopId, customerKey);
    sendExport(reply, await exportOf(this.runtime, shopId, customerKey));
  }

  @Post(':shopId/export')
  @HttpCode(200)
  @AdminOnly()
  @ApiOperation({
    summary: "A customer's data export looked up by e-mail address (the address in the body, never in the URL)",
  })
  @ApiBody(EMAIL_BODY)
  async exportByEmail(
    @Param('shopId', IdPipe) shopId: string,
    @Body() body: unknown,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const key = await this.keyOfBody(shopId, body);
    sendExport(reply, await exportOf(this.runtime, shopId, key));
  }

  private async checkCustomer(shopId: string, customerKey: string): Promise<void> {
    if (!(await this.runtime.shops.get(shopId))) throw new NotFoundException(`no shop ${shopId}`);
    if (!CUSTOMER_KEY.test(customerKey)) {
      throw invalid([{ field: 'customerKey', message: 'must be a customer key such as e-<hex>, t-<hex> or p-<id>' }]);
    }
  }

  private async keyOfBody(shopId: string, body: unknown): Promise<string> {
    if (!(await this.runtime.shops.get(shopId))) throw new NotFoundException(`no shop ${shopId}`);
    const email = typeof body === 'object' && body !== null ? (body as { email?: unknown }).email : undefined;
    const key = typeof email === 'string' ? customerKeyOfEmail(this.runtime, shopId, email) : undefined;
    if (key === undefined) throw invalid([{ field: 'email', message: 'must be an e-mail address' }]);
    return key;
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
  @ApiBody(EMAIL_BODY)
  async historyByEmail(@Param('shopId', IdPipe) shopId: string, @Body() body: unknown): Promise<CustomerHistory> {
    return historyOf(this.runtime, shopId, await this.keyOfBody(shopId, body));
  }
}
