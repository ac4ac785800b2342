import { describe, expect, test } from 'vitest';
import { credentialLifetime, parseDuration } from '../../src/config/duration.js';
import { parseServerUrl } from '../../src/cli/operations/server_url.js';

describe('parseServerUrl: where remote mode may send a token', () => {
  test.each([['https://hub.lan:8443'], ['https://192.168.1.10:8443/'], ['http://127.0.0.1:8080'], ['http://localhost:8080'], ['http://[::1]:8080']])(
    'accept/%s',
    (url) => expect(parseServerUrl(url).href).toMatch(/^https?:\/\//),
  );
  test.each([
    ['refuse/plain-http-off-loopback', 'http://hub.lan:8080'],
    ['refuse/plain-http-lan-address', 'http://192.168.1.10:8080'],
    ['refuse/credentials-in-url', 'https://ops:secret@hub.lan:8443'],
    ['refuse/query', 'https://hub.lan:8443/?token=x'],
    ['refuse/not-http', 'ftp://hub.lan'],
    ['refuse/not-a-url', 'hub.lan:8443'],
  ])('%s', (_name, url) => {
    expect(() => parseServerUrl(url)).toThrow(expect.objectContaining({ code: 'invalid_option' }));
  });
});

describe('durations: a unit is required; credential lifetimes have a 30 s floor', () => {
  test.each([['90s', 90], ['10m', 600], ['24h', 86_400], ['30d', 2_592_000], ['2w', 1_209_600], ['0', 0]])('parse/%s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });
  test('refuse/unitless', () => {
    expect(() => parseDuration('5')).toThrow('5 what? use 5m');
  });
  test('floor/under-30s-needs-force', () => {
    expect(() => credentialLifetime('29s', '--token-ttl', false)).toThrow(/under 30s.*--force/);
    expect(credentialLifetime('29s', '--token-ttl', true)).toBe(29);
    expect(credentialLifetime('30s', '--token-ttl', false)).toBe(30);
    expect(() => credentialLifetime('0', '--token-ttl', true)).toThrow(/longer than 0s/);
  });
});
