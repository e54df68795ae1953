import type { TicketPort, TicketRequest } from '@reclaim/ports';
import { errorBefore, FaultPlan, timeoutAfter } from './faults';

/** A help-desk double (Zendesk-like): one ticket per idempotency key, every call recorded, failures injectable. */
export class FakeTickets implements TicketPort {
  readonly tickets: (TicketRequest & { ticketId: string })[] = [];
  readonly calls: TicketRequest[] = [];
  readonly faults = new FaultPlan();
  private readonly byKey = new Map<string, string>();

  async open(request: TicketRequest): Promise<{ ticketId: string }> {
    this.calls.push(request);
    const fault = this.faults.next();
    const before = fault ? errorBefore(fault) : undefined;
    if (before) throw before;
    let ticketId = this.byKey.get(request.idempotencyKey);
    if (ticketId === undefined) {
      ticketId = `ticket-${this.tickets.length + 1}`;
      this.byKey.set(request.idempotencyKey, ticketId);
      this.tickets.push({ ...request, ticketId });
    }
    if (fault?.kind === 'timeout-after') throw timeoutAfter();
    return { ticketId };
  }
}
