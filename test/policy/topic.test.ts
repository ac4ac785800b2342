import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TOPIC_LIMITS,
  filterContains,
  SharedSubscriptionError,
  splitSharedSubscription,
  topicFilterError,
  topicMatches,
  topicNameError,
} from '../../src/policy/topic.js';

const deep = (n: number): string => Array.from({ length: n }, (_, i) => `l${i}`).join('/');

describe('topicNameError', () => {
  const rows: Array<[name: string, topic: string, expected: string | null]> = [
    ['ok/plain', 'home/t1/telemetry', null],
    ['ok/single-level', 'a', null],
    ['ok/empty-middle-level', 'a//b', null],
    ['ok/leading-slash', '/a', null],
    ['ok/trailing-slash', 'a/', null],
    ['ok/only-slash', '/', null],
    ['ok/dollar-topic', '$SYS/broker/uptime', null],
    ['ok/unicode', 'maison/salle/température', null],
    ['ok/max-levels', deep(32), null],
    ['ok/max-bytes', 'a'.repeat(65535), null],
    ['bad/empty', '', 'empty'],
    ['bad/plus', 'home/+/telemetry', 'wildcard in topic name'],
    ['bad/hash', 'home/#', 'wildcard in topic name'],
    ['bad/plus-inside-level', 'a+b', 'wildcard in topic name'],
    ['bad/null-character', 'home/t1\u0000/x', 'null character'],
    ['bad/too-many-levels', deep(33), 'too many levels'],
    ['bad/too-many-empty-levels', '/'.repeat(32), 'too many levels'],
    ['bad/too-long-ascii', 'a'.repeat(65536), 'too long'],
    ['bad/too-long-multibyte', 'é'.repeat(32768), 'too long'], // 65536 UTF-8 bytes
    ['ok/multibyte-at-limit', 'é'.repeat(32767) + 'a', null], // 65535 bytes
    ['bad/too-long-astral', '😀'.repeat(16384), 'too long'], // 65536 bytes
  ];
  it.each(rows)('%s', (_name, topic, expected) => {
    expect(topicNameError(topic)).toBe(expected);
  });

  it('limits/custom', () => {
    expect(topicNameError('a/b/c', { maxLevels: 2, maxBytes: 100 })).toBe('too many levels');
    expect(topicNameError('abcdef', { maxLevels: 2, maxBytes: 5 })).toBe('too long');
    expect(DEFAULT_TOPIC_LIMITS).toEqual({ maxLevels: 32, maxBytes: 65535 });
  });
});

describe('topicFilterError', () => {
  const rows: Array<[name: string, filter: string, expected: string | null]> = [
    ['ok/plain', 'home/t1/telemetry', null],
    ['ok/hash-alone', '#', null],
    ['ok/plus-alone', '+', null],
    ['ok/hash-last', 'home/#', null],
    ['ok/plus-middle', 'home/+/telemetry', null],
    ['ok/plus-hash', '+/#', null],
    ['ok/plus-plus', '+/+', null],
    ['ok/plus-empty-levels', '+//+', null],
    ['ok/leading-slash-hash', '/#', null],
    ['ok/trailing-plus', 'a/+', null],
    ['ok/shared', '$share/g/home/#', null],
    ['ok/max-levels', deep(31) + '/#', null],
    ['bad/empty', '', 'empty'],
    ['bad/hash-not-last', 'home/#/x', "'#' must be the last level"],
    ['bad/hash-not-whole-level', 'home/a#', "'#' must be a whole level"],
    ['bad/hash-prefix', '#a', "'#' must be the last level"],
    ['bad/plus-suffix', 'a+/b', "'+' must be a whole level"],
    ['bad/plus-prefix', 'a/+b', "'+' must be a whole level"],
    ['bad/plus-inside', 'a/b+c/d', "'+' must be a whole level"],
    ['bad/plus-plus-same-level', '++', "'+' must be a whole level"],
    ['bad/null-character', 'a/\u0000/#', 'null character'],
    ['bad/too-many-levels', deep(32) + '/#', 'too many levels'],
    ['bad/too-long', 'a/'.repeat(40000) + '#', 'too long'],
  ];
  it.each(rows)('%s', (_name, filter, expected) => {
    expect(topicFilterError(filter)).toBe(expected);
  });
});

describe('topicMatches', () => {
  const rows: Array<[name: string, filter: string, topic: string, expected: boolean]> = [
    ['match/exact', 'home/t1/telemetry', 'home/t1/telemetry', true],
    ['match/plus', 'home/+/telemetry', 'home/t1/telemetry', true],
    ['match/plus-empty-level', 'home/+/telemetry', 'home//telemetry', true],
    ['match/hash-parent', 'a/#', 'a', true], // [MQTT-4.7.1-2]
    ['match/hash-deep', 'a/#', 'a/b/c/d', true],
    ['match/hash-all', '#', 'a/b', true],
    ['match/hash-leading-slash', '#', '/a', true],
    ['match/plus-leading-empty', '+/a', '/a', true],
    ['match/trailing-empty', 'a/+', 'a/', true],
    ['match/plus-hash-one-level', '+/#', 'a', true],
    ['match/dollar-literal', '$SYS/#', '$SYS/broker/uptime', true],
    ['match/dollar-literal-plus', '$SYS/+/uptime', '$SYS/broker/uptime', true],
    ['miss/plus-not-parent', 'a/+', 'a', false],
    ['miss/plus-one-level-only', 'a/+', 'a/b/c', false],
    ['miss/longer-filter', 'a/b/c', 'a/b', false],
    ['miss/shorter-filter', 'a/b', 'a/b/c', false],
    ['miss/prefix-is-not-level', 'dev/1/#', 'dev/10/x', false],
    ['miss/case-sensitive', 'Home/#', 'home/x', false],
    ['miss/empty-level-is-level', 'a/b', 'a//b', false],
    ['miss/leading-slash', 'a/#', '/a', false],
    ['miss/hash-dollar', '#', '$SYS/broker/uptime', false], // [MQTT-4.7.2-1]
    ['miss/plus-dollar', '+/broker/uptime', '$SYS/broker/uptime', false],
    ['miss/plus-hash-dollar', '+/#', '$auth/t1/expiring', false],
    ['match/hash-second-level-dollar-ok', 'a/#', 'a/$x', true],
  ];
  it.each(rows)('%s', (_name, filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('filterContains', () => {
  const rows: Array<[name: string, outer: string, inner: string, expected: boolean]> = [
    ['yes/same-literal', 'a/b', 'a/b', true],
    ['yes/plus-over-literal', 'home/+/telemetry', 'home/t1/telemetry', true],
    ['yes/plus-over-plus', 'home/+/telemetry', 'home/+/telemetry', true],
    ['no/plus-over-hash', 'home/+/telemetry', 'home/#', false],
    ['no/plus-over-hash-end', 'home/+', 'home/#', false],
    ['yes/hash-over-plus', 'a/#', 'a/+', true],
    ['yes/hash-over-parent', 'a/#', 'a', true],
    ['yes/hash-over-hash', 'a/#', 'a/#', true],
    ['yes/hash-over-deeper-hash', 'a/#', 'a/b/#', true],
    ['yes/plus-hash-over-literal-hash', 'a/+/#', 'a/b/#', true],
    ['no/literal-hash-over-plus-hash', 'a/b/#', 'a/+/#', false],
    ['no/plus-hash-over-parent-hash', 'a/+/#', 'a/#', false], // 'a/#' matches 'a'
    ['no/plus-plus-over-hash', '+/+', '#', false],
    ['no/plus-over-hash', '+', '#', false],
    ['yes/plus-hash-over-hash', '+/#', '#', true], // every topic has a first level
    ['yes/hash-over-plus-hash', '#', '+/#', true],
    ['yes/hash-over-anything', '#', 'a/+/b/#', true],
    ['no/literal-over-plus', 'a/b', 'a/+', false],
    ['no/shorter-outer', 'a', 'a/b', false],
    ['no/longer-outer', 'a/b/c', 'a/b', false],
    ['no/literal-over-hash', 'a', 'a/#', false],
    ['no/prefix-is-not-level', 'dev/1/#', 'dev/10/x', false],
    ['yes/empty-levels', 'a//+', 'a//b', true],
    ['no/empty-level-vs-missing', 'a/+', 'a', false],
    ['no/hash-over-dollar', '#', '$SYS/x', false], // [MQTT-4.7.2-1]
    ['no/plus-over-dollar', '+/x', '$SYS/x', false],
    ['no/plus-hash-over-dollar', '+/#', '$SYS/#', false],
    ['yes/dollar-hash-over-dollar', '$SYS/#', '$SYS/broker/+', true],
    ['yes/hash-over-plus-first', '#', '+/x', true], // '+' first never matches '$' topics either
    ['no/literal-dollar-over-plus', '$SYS/x', '+/x', false],
  ];
  it.each(rows)('%s', (_name, outer, inner, expected) => {
    expect(filterContains(outer, inner)).toBe(expected);
  });

  // Containment must agree with matching on concrete topics.
  it('agrees/with-topicMatches-on-samples', () => {
    const topics = ['a', 'a/b', 'a/b/c', 'a//b', '/a', 'a/', '$SYS/x', 'b/x', 'dev/10/x', 'dev/1/x'];
    const filters = ['#', '+', '+/#', 'a/#', 'a/+', 'a/b', 'a/+/#', '+/+', '$SYS/#', 'dev/1/#', 'dev/+/x', '+/x'];
    for (const outer of filters) {
      for (const inner of filters) {
        if (!filterContains(outer, inner)) continue;
        for (const t of topics) {
          if (topicMatches(inner, t)) expect(topicMatches(outer, t), `${outer} ⊇ ${inner} on ${t}`).toBe(true);
        }
      }
    }
  });
});

describe('splitSharedSubscription', () => {
  const ok: Array<[name: string, filter: string, expected: { group: string; filter: string } | null]> = [
    ['shared/simple', '$share/g/home/#', { group: 'g', filter: 'home/#' }],
    ['shared/one-level', '$share/workers/jobs', { group: 'workers', filter: 'jobs' }],
    ['shared/dollar-inner', '$share/g/$SYS/#', { group: 'g', filter: '$SYS/#' }],
    ['plain/not-shared', 'home/#', null],
    ['plain/prefix-word', '$shared/x', null],
    ['plain/other-dollar', '$SYS/#', null],
  ];
  it.each(ok)('%s', (_name, filter, expected) => {
    expect(splitSharedSubscription(filter)).toEqual(expected);
  });

  const bad: Array<[name: string, filter: string]> = [
    ['malformed/bare', '$share'],
    ['malformed/no-filter', '$share/g'],
    ['malformed/empty-filter', '$share/g/'],
    ['malformed/empty-group', '$share//home/#'],
    ['malformed/wildcard-group', '$share/+/home/#'],
    ['malformed/hash-group', '$share/#'],
  ];
  it.each(bad)('%s', (_name, filter) => {
    expect(() => splitSharedSubscription(filter)).toThrow(SharedSubscriptionError);
  });
});
