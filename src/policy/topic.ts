/**
 * MQTT 3.1.1 §4.7 topic names and topic filters: validation, matching and
 * containment. Pure string work: no I/O, no regular expressions.
 *
 * Topics are split on '/' into levels. Empty levels are real levels
 * ('a//b' has three, '/a' has two), and '+' matches an empty level.
 */

/** Limits beyond the specification's own, to bound work per message. */
export interface TopicLimits {
  /** Most levels a topic name or filter may have. */
  maxLevels: number;
  /** Most UTF-8 bytes; the MQTT string length field caps this at 65535. */
  maxBytes: number;
}

/** 32 levels is far beyond real device topics; 65535 is the MQTT maximum [MQTT-4.7.3-3]. */
export const DEFAULT_TOPIC_LIMITS: Readonly<TopicLimits> = Object.freeze({ maxLevels: 32, maxBytes: 65535 });

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;

/**
 * UTF-8 length of a JavaScript string. A lone surrogate counts 3 bytes, as
 * its replacement character would.
 */
function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

function tooLong(s: string, maxBytes: number): boolean {
  // Each UTF-16 code unit is at most 3 UTF-8 bytes: skip the count for short strings.
  return s.length * 3 > maxBytes && utf8Length(s) > maxBytes;
}

/**
 * Why `topic` is not a valid topic name to publish to, or null if it is.
 *
 * @example
 * topicNameError('home/t1/telemetry') // null
 * topicNameError('home/+/telemetry')  // 'wildcard in topic name'
 */
export function topicNameError(topic: string, limits: TopicLimits = DEFAULT_TOPIC_LIMITS): string | null {
  if (topic.length === 0) return 'empty'; // [MQTT-4.7.3-1]
  if (tooLong(topic, limits.maxBytes)) return 'too long';
  let levels = 1;
  let wildcard = false;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === 0) return 'null character'; // [MQTT-4.7.3-2]
    if (c === SLASH) levels++;
    else if (c === PLUS || c === HASH) wildcard = true;
  }
  if (wildcard) return 'wildcard in topic name'; // [MQTT-3.3.2-2]
  if (levels > limits.maxLevels) return 'too many levels';
  return null;
}

/**
 * Why `filter` is not a valid topic filter to subscribe with, or null if it is.
 *
 * @example
 * topicFilterError('home/+/telemetry') // null
 * topicFilterError('home/#/x')         // "'#' must be the last level"
 */
export function topicFilterError(filter: string, limits: TopicLimits = DEFAULT_TOPIC_LIMITS): string | null {
  if (filter.length === 0) return 'empty'; // [MQTT-4.7.3-1]
  if (tooLong(filter, limits.maxBytes)) return 'too long';
  let levels = 1;
  const last = filter.length - 1;
  for (let i = 0; i <= last; i++) {
    const c = filter.charCodeAt(i);
    if (c === 0) return 'null character'; // [MQTT-4.7.3-2]
    if (c === SLASH) {
      levels++;
      continue;
    }
    const levelStart = i === 0 || filter.charCodeAt(i - 1) === SLASH;
    if (c === HASH) {
      // [MQTT-4.7.1-2] '#' is a whole level and the last one.
      if (!levelStart) return "'#' must be a whole level";
      if (i !== last) return "'#' must be the last level";
    } else if (c === PLUS) {
      // [MQTT-4.7.1-3] '+' occupies a whole level.
      if (!levelStart || (i !== last && filter.charCodeAt(i + 1) !== SLASH)) return "'+' must be a whole level";
    }
  }
  if (levels > limits.maxLevels) return 'too many levels';
  return null;
}

/** True if the topic (or the filter's first level) begins with '$'. */
export function startsWithDollar(s: string): boolean {
  return s.charCodeAt(0) === DOLLAR;
}

/**
 * Matching on pre-split levels, for callers that split once and match many
 * filters. `topicIsDollar` is whether the topic begins with '$'.
 */
export function levelsMatch(filter: readonly string[], topic: readonly string[], topicIsDollar: boolean): boolean {
  const first = filter[0];
  // [MQTT-4.7.2-1] wildcards at the first level never match '$' topics.
  if (topicIsDollar && (first === '#' || first === '+')) return false;
  for (let i = 0; i < filter.length; i++) {
    const f = filter[i];
    // [MQTT-4.7.1-2] '#' matches the parent level too: 'a/#' matches 'a'.
    if (f === '#') return true;
    if (i >= topic.length) return false;
    if (f !== '+' && f !== topic[i]) return false;
  }
  return filter.length === topic.length;
}

/**
 * Whether `topic` (a valid topic name) is matched by `filter` (a valid
 * filter). Inputs are not validated: check them first.
 *
 * @example
 * topicMatches('a/#', 'a')        // true
 * topicMatches('#', '$SYS/uptime') // false  [MQTT-4.7.2-1]
 */
export function topicMatches(filter: string, topic: string): boolean {
  return levelsMatch(filter.split('/'), topic.split('/'), startsWithDollar(topic));
}

/**
 * Containment on pre-split levels: every topic `inner` can match is matched
 * by `outer`.
 */
export function levelsContain(outer: readonly string[], inner: readonly string[]): boolean {
  const o0 = outer[0];
  const i0 = inner[0];
  if (o0 === undefined || i0 === undefined) return false;
  // [MQTT-4.7.2-1] an inner filter starting with a literal '$' level matches '$'
  // topics, which an outer wildcard first level never does.
  if ((o0 === '#' || o0 === '+') && i0 !== '#' && i0 !== '+' && startsWithDollar(i0)) return false;
  // '#' alone matches every non-'$' topic, and every topic has at least one
  // level, so '+/#' matches exactly the same set.
  if (i0 === '#' && o0 === '+' && outer.length === 2 && outer[1] === '#') return true;
  for (let i = 0; i < outer.length; i++) {
    const o = outer[i];
    if (o === '#') return true;
    const n = inner[i];
    // inner stopped: it matches topics shorter than outer demands.
    if (n === undefined) return false;
    // inner '#' matches any depth (including none) here; a non-'#' outer cannot.
    if (n === '#') return false;
    if (o === '+') continue;
    // outer literal: inner must be the same literal ('+' would match other levels).
    if (n !== o) return false;
  }
  return inner.length === outer.length;
}

/**
 * True iff every topic `inner` can match is matched by `outer`. Both are
 * valid filters (a topic name is a filter too). Inputs are not validated.
 *
 * @example
 * filterContains('home/+/telemetry', 'home/t1/telemetry') // true
 * filterContains('home/+/telemetry', 'home/#')            // false
 * filterContains('dev/1/#', 'dev/10/x')                   // false
 */
export function filterContains(outer: string, inner: string): boolean {
  return levelsContain(outer.split('/'), inner.split('/'));
}

/** Thrown for a '$share/' filter without a proper group name or filter. */
export class SharedSubscriptionError extends Error {
  readonly code = 'invalid_shared_subscription';
  constructor(message: string) {
    super(message);
    this.name = 'SharedSubscriptionError';
  }
}

/**
 * Splits a shared subscription '$share/<group>/<filter>'. Returns null when
 * the first level is not '$share'. A malformed one (no group, a group with
 * '+' or '#', no filter) throws SharedSubscriptionError: callers deny it.
 *
 * @example
 * splitSharedSubscription('$share/g/home/#') // { group: 'g', filter: 'home/#' }
 * splitSharedSubscription('home/#')          // null
 * splitSharedSubscription('$share//home/#')  // throws SharedSubscriptionError
 */
export function splitSharedSubscription(filter: string): { group: string; filter: string } | null {
  if (!filter.startsWith('$share')) return null;
  if (filter.length !== 6 && filter.charCodeAt(6) !== SLASH) return null; // '$shared/...' is an ordinary topic
  const rest = filter.slice(7);
  const slash = rest.indexOf('/');
  if (slash < 0) throw new SharedSubscriptionError('shared subscription without a filter');
  const group = rest.slice(0, slash);
  // MQTT 5 §4.8.2: a share name is at least one character, without '/', '+' or '#'.
  if (group.length === 0) throw new SharedSubscriptionError('shared subscription with an empty group');
  if (group.includes('+') || group.includes('#')) {
    throw new SharedSubscriptionError('shared subscription group contains a wildcard');
  }
  const inner = rest.slice(slash + 1);
  if (inner.length === 0) throw new SharedSubscriptionError('shared subscription without a filter');
  return { group, filter: inner };
}
