import { describe, expect, it } from 'vitest';
import { FailureLimiter } from '../../src/oauth/failure_limiter.js';

function limiterAt(options: { limit: number; windowSeconds: number; maxLockSeconds?: number; maxEntries?: number }) {
  const clock = { now: 1_000_000 };
  return { clock, limiter: new FailureLimiter({ ...options, now: () => clock.now }) };
}

describe('FailureLimiter', () => {
  it('locks at the limit-th failure within a window, for one window', () => {
    const { clock, limiter } = limiterAt({ limit: 3, windowSeconds: 60 });
    limiter.fail('k');
    limiter.fail('k');
    expect(limiter.retryAfter('k')).toBe(0);
    limiter.fail('k');
    expect(limiter.retryAfter('k')).toBe(60);
    clock.now += 59_500;
    expect(limiter.retryAfter('k')).toBe(1);
    clock.now += 500;
    expect(limiter.retryAfter('k')).toBe(0);
  });

  it('forgets failures older than the window', () => {
    const { clock, limiter } = limiterAt({ limit: 3, windowSeconds: 10 });
    limiter.fail('k');
    limiter.fail('k');
    clock.now += 10_000;
    limiter.fail('k');
    expect(limiter.retryAfter('k')).toBe(0);
  });

  it('reset clears a key; keys are independent', () => {
    const { limiter } = limiterAt({ limit: 2, windowSeconds: 10 });
    limiter.fail('a');
    limiter.fail('a');
    limiter.fail('b');
    expect(limiter.retryAfter('a')).toBe(10);
    expect(limiter.retryAfter('b')).toBe(0);
    limiter.reset('a');
    expect(limiter.retryAfter('a')).toBe(0);
  });

  it('limit 0 turns it off', () => {
    const { limiter } = limiterAt({ limit: 0, windowSeconds: 10 });
    for (let i = 0; i < 100; i++) limiter.fail('k');
    expect(limiter.retryAfter('k')).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('holds at most maxEntries keys, dropping expired ones first, then the oldest unlocked', () => {
    const { clock, limiter } = limiterAt({ limit: 2, windowSeconds: 10, maxEntries: 3 });
    limiter.fail('old');
    clock.now += 11_000; // 'old' has expired
    limiter.fail('locked');
    limiter.fail('locked');
    limiter.fail('x');
    limiter.fail('y'); // full: 'old' is swept, nothing live is lost
    expect(limiter.size).toBe(3);
    expect(limiter.retryAfter('locked')).toBe(10);
    limiter.fail('z'); // full of live keys: the oldest unlocked one ('x') goes, the lock stays
    expect(limiter.size).toBe(3);
    expect(limiter.retryAfter('locked')).toBe(10);
    limiter.fail('z');
    limiter.fail('y');
    limiter.fail('w'); // only locked keys left: the oldest lock goes
    expect(limiter.size).toBe(3);
    expect(limiter.retryAfter('locked')).toBe(0);
    expect(limiter.retryAfter('w')).toBe(0);
    expect(limiter.retryAfter('z')).toBe(10);
  });

  it('back-off grows: each further lock lasts twice as long, up to maxLockSeconds', () => {
    const { clock, limiter } = limiterAt({ limit: 2, windowSeconds: 10, maxLockSeconds: 35 });
    const lockOnce = () => {
      limiter.fail('k');
      limiter.fail('k');
      const wait = limiter.retryAfter('k');
      clock.now += wait * 1000; // the lock lifts; fail again at once
      return wait;
    };
    expect([lockOnce(), lockOnce(), lockOnce(), lockOnce()]).toEqual([10, 20, 35, 35]);
  });

  it('a key quiet for as long as its last lock, after it, is forgotten with its strikes', () => {
    const { clock, limiter } = limiterAt({ limit: 2, windowSeconds: 10 });
    limiter.fail('k');
    limiter.fail('k');
    expect(limiter.retryAfter('k')).toBe(10);
    clock.now += 10_000 + 10_000; // lock over, then one more lock-length of quiet
    limiter.fail('k');
    limiter.fail('k');
    expect(limiter.retryAfter('k')).toBe(10); // the first lock's length again
  });

  it('stays bounded while an attacker rotates keys (ids and addresses)', () => {
    const { clock, limiter } = limiterAt({ limit: 3, windowSeconds: 60, maxEntries: 1000 });
    for (let i = 0; i < 20_000; i++) {
      limiter.fail(`id-${i} 10.0.${i >> 8}.${i & 255}`);
      clock.now += 1;
    }
    expect(limiter.size).toBeLessThanOrEqual(1000);
  });
});
