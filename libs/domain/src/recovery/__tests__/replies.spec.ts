import { HOUR } from '../time';
import { at, Run, T0, types } from './fixtures';

describe('replies on the recovery stream', () => {
  it('records the first reply to a sent step once, and none to a step never sent', () => {
    const run = new Run().startAbandoned().sendStep('msg-1');
    const reply = { type: 'MessageEngagement', kind: 'replied', step: 0, channel: 'email', at: at(T0, HOUR) } as const;
    expect(run.send(reply)).toEqual([
      expect.objectContaining({ type: 'recovery.message-replied', step: 0, channel: 'email' }),
    ]);
    expect(run.send(reply)).toEqual([]);
    // A reply and an open of the same message are different engagements.
    expect(types(run.send({ ...reply, kind: 'opened' }))).toEqual(['recovery.message-opened']);
    expect(run.send({ ...reply, step: 1 })).toEqual([]);
  });
});
