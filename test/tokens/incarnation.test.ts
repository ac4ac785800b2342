import { describe, expect, it } from 'vitest';
import { belongsToIncarnation, newIncarnation } from '../../src/tokens/incarnation.js';

describe('belongsToIncarnation (tokens/incarnation.ts)', () => {
  const created = 1_700_000_000_500; // ms, half a second into its second
  const second = Math.floor(created / 1000);
  it.each([
    ['allow/same-incarnation', { incarnation: 'aa', iat: second }, { incarnation: 'aa', createdAt: created }, true],
    ['deny/other-incarnation-same-second', { incarnation: 'bb', iat: second }, { incarnation: 'aa', createdAt: created }, false],
    ['deny/no-claim-for-a-new-client', { incarnation: null, iat: second + 10 }, { incarnation: 'aa', createdAt: created }, false],
    ['allow/legacy-client-legacy-token', { incarnation: null, iat: second }, { incarnation: null, createdAt: created }, true],
    ['deny/legacy-client-token-before-its-creation', { incarnation: null, iat: second - 1 }, { incarnation: null, createdAt: created }, false],
    ['deny/legacy-client-token-with-a-claim', { incarnation: 'aa', iat: second }, { incarnation: null, createdAt: created }, false],
  ] as const)('%s', (_name, token, client, expected) => {
    expect(belongsToIncarnation(token, client)).toBe(expected);
  });

  it('incarnations are 128 random bits, hex', () => {
    const a = newIncarnation();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newIncarnation()).not.toBe(a);
  });
});
