import { describe, expect, test } from 'vitest';
import { BurstFolder } from '../../src/audit/burst_folder.js';

describe('BurstFolder: at most one row per key per window', () => {
  test('first event of a quiet key is a row at once; repeats fold until the window ends', () => {
    const f = new BurstFolder<string>(1000);
    expect(f.offer('k', 0, 'a', 'first')).toBe(true);
    expect(f.offer('k', 10, 'b', 'second')).toBe(false);
    expect(f.offer('k', 20, 'b', 'third')).toBe(false);
    expect(f.due(999)).toEqual([]);
    expect(f.due(1000)).toEqual([{ key: 'k', first: 'second', count: 2, samples: ['b'], firstAt: 10 }]);
    // The folded row counts as the key's row at 1000: the next event within a second folds again.
    expect(f.offer('k', 1500, 'c', 'x')).toBe(false);
    expect(f.due(1999)).toEqual([]);
    expect(f.due(2000)[0]?.count).toBe(1);
  });

  test('keys are independent; a quiet key is forgotten after a window; samples stop at 5 distinct', () => {
    const f = new BurstFolder<null>(1000);
    expect(f.offer('a', 0, 's', null)).toBe(true);
    expect(f.offer('b', 0, 's', null)).toBe(true);
    for (let i = 0; i < 50; i++) f.offer('a', 1 + i, `t${i % 7}`, null);
    const [row] = f.due(1000);
    expect(row).toMatchObject({ key: 'a', count: 50, samples: ['t0', 't1', 't2', 't3', 't4'] });
    expect(f.size).toBe(1); // b had nothing pending and its window passed
    expect(f.due(2000)).toEqual([]);
    expect(f.size).toBe(0);
    expect(f.offer('a', 2001, 's', null)).toBe(true);
  });

  test('drain hands back every pending row at shutdown', () => {
    const f = new BurstFolder<null>(1000);
    f.offer('a', 0, 's', null);
    f.offer('a', 1, 's', null);
    expect(f.drain().map((r) => r.count)).toEqual([1]);
    expect(f.size).toBe(0);
  });
});
