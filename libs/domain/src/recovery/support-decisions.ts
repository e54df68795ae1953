/**
 * How a recorded look at the customer's own help-desk tickets changes a recovery
 * (./support-tickets.ts): the lookup is recorded as it is; tickets concerning the cart that were
 * not open before are opened on the recovery, the ones no longer listed as open are closed. With
 * PAUSE_WHILE_TICKET_OPEN the recovery pauses when the first opens and resumes when the last closes;
 * otherwise the steps in between use the help copy (`checkBeforeSend`).
 */
import type { RecoveryConfig } from './config';
import type { RecoveryInput } from './recovery.messages';
import { Emitter, scheduleNext, ticketPaused } from './recovery-schedule';
import { customerTicketKey } from './support-tickets';

type SupportLookup = Extract<RecoveryInput, { type: 'RecordSupportLookup' }>;

export function onSupportLookup(config: RecoveryConfig, out: Emitter, input: SupportLookup): void {
  const state = out.state;
  if (state.status !== 'running' && state.status !== 'holdout') return;
  const { at, source, trigger, result } = input;
  const step = input.step !== undefined ? { step: input.step } : {};
  if (result.kind === 'unavailable') {
    out.emit({
      type: 'recovery.support-checked',
      at,
      source,
      trigger,
      ...step,
      outcome: 'unavailable',
      reason: result.reason,
      ...(result.code !== undefined ? { code: result.code } : {}),
    });
    return;
  }
  out.emit({
    type: 'recovery.support-checked',
    at,
    source,
    trigger,
    ...step,
    outcome: 'found',
    openTickets: result.openTickets,
    concerning: result.concerning,
  });
  const wasPaused = ticketPaused(config, state);
  const prefix = `${source}:`;
  const nowOpen = new Set(result.concerning.map((t) => customerTicketKey(source, t.ticketId)));
  for (const key of state.customerTickets ?? []) {
    if (key.startsWith(prefix) && !nowOpen.has(key)) {
      out.emit({ type: 'recovery.customer-ticket-closed', at, source, ticketId: key.slice(prefix.length), trigger });
    }
  }
  for (const ticket of result.concerning) {
    if ((out.state.customerTickets ?? []).includes(customerTicketKey(source, ticket.ticketId))) continue;
    out.emit({
      type: 'recovery.customer-ticket-opened',
      at,
      source,
      ticketId: ticket.ticketId,
      concern: ticket.concern,
      ...(ticket.productIds !== undefined ? { productIds: ticket.productIds } : {}),
    });
  }
  if (state.status !== 'running' || state.awaitingAbandonment) return;
  const paused = ticketPaused(config, out.state);
  if (!wasPaused && paused) {
    out.emit({ type: 'recovery.paused', at, reason: 'ticket-open' });
  } else if (wasPaused && !paused) {
    out.emit({ type: 'recovery.resumed', at, cause: 'ticket-closed' });
    scheduleNext(config, out, at);
  }
}
