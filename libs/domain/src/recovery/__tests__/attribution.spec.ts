import { attributeOrder, type AttributableMessage } from '../attribution';
import { DAY, HOUR } from '../time';
import { at } from './fixtures';

const T = '2026-05-01T10:00:00.000Z';
const msg = (messageId: string, step: number, clickedAt?: string): AttributableMessage => ({
  messageId,
  recoveryId: 'r-1',
  step,
  channel: 'email',
  sentAt: T,
  ...(clickedAt ? { clickedAt } : {}),
});
const WINDOW = 5 * DAY;

describe('attributeOrder', () => {
  it('attributes an order placed after a click within the window', () => {
    expect(attributeOrder([msg('m0', 0, at(T, HOUR))], { orderId: 'o', placedAt: at(T, 2 * DAY) }, WINDOW)).toEqual({
      orderId: 'o',
      messageId: 'm0',
      recoveryId: 'r-1',
      step: 0,
      channel: 'email',
      clickedAt: at(T, HOUR),
    });
  });

  it('the window is inclusive at 5 days and exclusive beyond', () => {
    const click = at(T, HOUR);
    expect(attributeOrder([msg('m0', 0, click)], { orderId: 'o', placedAt: at(click, WINDOW) }, WINDOW)).toBeDefined();
    expect(
      attributeOrder([msg('m0', 0, click)], { orderId: 'o', placedAt: at(click, WINDOW + 1) }, WINDOW),
    ).toBeUndefined();
  });

  it('ignores messages never clicked and clicks after the order', () => {
    const messages = [msg('m0', 0), msg('m1', 1, at(T, 3 * DAY))];
    expect(attributeOrder(messages, { orderId: 'o', placedAt: at(T, DAY) }, WINDOW)).toBeUndefined();
  });

  it('the last click before the order wins', () => {
    const messages = [msg('m1', 1, at(T, 2 * HOUR)), msg('m0', 0, at(T, HOUR)), msg('m2', 2, at(T, 2 * DAY))];
    expect(attributeOrder(messages, { orderId: 'o', placedAt: at(T, DAY) }, WINDOW)?.messageId).toBe('m1');
  });
});
