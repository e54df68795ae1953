import type { Clock } from '@reclaim/application/recovery';

/** Time that moves only when told: tests run days of recovery in milliseconds. */
export class ManualClock implements Clock {
  private t: number;

  constructor(start: Date | string = '2025-03-03T09:00:00.000Z') {
    this.t = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.t);
  }

  set(at: Date | string): void {
    this.t = new Date(at).getTime();
  }

  advance(ms: number): Date {
    this.t += ms;
    return this.now();
  }
}
