import { describe, expect, it } from 'vitest';
import { Backoff } from '../../device-sim/lib/backoff.js';

describe('Backoff', () => {
  it('doubles the cap each attempt, keeps half of it fixed and stays within [min, max]', () => {
    const rows: Array<{ random: number; expected: number[] }> = [
      // cap: 100, 200, 400, 800, 1000, 1000
      { random: 0, expected: [100, 100, 200, 400, 500, 500] },
      { random: 1, expected: [100, 200, 400, 800, 1000, 1000] },
      { random: 0.5, expected: [100, 150, 300, 600, 750, 750] },
    ];
    for (const { random, expected } of rows) {
      const backoff = new Backoff({ minMs: 100, maxMs: 1000 }, () => random);
      expect(expected.map(() => backoff.next()), `random=${random}`).toEqual(expected);
    }
  });

  it('starts again from the minimum after reset', () => {
    const backoff = new Backoff({ minMs: 100, maxMs: 1000 }, () => 1);
    backoff.next();
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it('never overflows after many attempts', () => {
    const backoff = new Backoff({ minMs: 100, maxMs: 30_000 }, () => 1);
    let last = 0;
    for (let i = 0; i < 5000; i++) last = backoff.next();
    expect(last).toBe(30_000);
    expect(backoff.max()).toBe(30_000);
  });

  it('rejects bounds that cannot work', () => {
    expect(() => new Backoff({ minMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => new Backoff({ minMs: 10, maxMs: 5 })).toThrow(RangeError);
  });
});
