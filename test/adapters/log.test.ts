import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';

describe('createLogger', () => {
  it('writes one JSON line per action with the rollout context, the group of a child, and errors by name', () => {
    const lines: string[] = [];
    const log = createLogger(
      { rolloutId: 'r1', imageId: 'ami-00000000000000002' },
      { sink: (l) => lines.push(l), now: () => new Date('2026-01-01T00:00:00Z') },
    );
    log.child({ autoScalingGroupName: 'web' }).error('refresh-failed', { error: new TypeError('boom') });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(JSON.parse(lines[0]!)).toEqual({
      time: '2026-01-01T00:00:00.000Z',
      level: 'error',
      action: 'refresh-failed',
      rolloutId: 'r1',
      imageId: 'ami-00000000000000002',
      autoScalingGroupName: 'web',
      error: { name: 'TypeError', message: 'boom' },
    });
  });
});
