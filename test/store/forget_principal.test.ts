import { describe, expect, it } from 'vitest';
import { isSessionOf } from '../../src/store/aedes_persistence.js';
import { VolatilePackets } from '../../src/store/aedes_persistence/volatile_packets.js';

describe("forgetting a deleted principal's sessions", () => {
  it.each([
    ['alice', 'alice', true],
    ['alice', 'alice@laptop', true],
    ['alice', 'alice2', false],
    ['alice', 'alic', false],
    ['t2', 't2@x', true],
  ] as const)('isSessionOf(%s, %s) = %s', (principal, clientId, expected) => {
    expect(isSessionOf(principal, clientId)).toBe(expected);
  });

  it('VolatilePackets.forget drops the queue, QoS 2 state and will of the matching ids, and their bytes', () => {
    const packets = new VolatilePackets();
    const packet = (topic: string) => ({ cmd: 'publish' as const, topic, payload: Buffer.from('0123456789'), qos: 1 as const, retain: false, messageId: 1 });
    packets.enqueue('alice@laptop', packet('$auth/alice/token/response'));
    packets.enqueue('alice', packet('$auth/alice/token/response'));
    packets.storeIncoming('alice', 7, packet('$auth/alice/token/request'));
    packets.putWill('alice@laptop', packet('$auth/alice/x'));
    packets.enqueue('bob', packet('$auth/bob/token/response'));
    expect(packets.bytes).toBe(50);
    packets.forget((id) => isSessionOf('alice', id));
    expect(packets.outgoing('alice@laptop')).toEqual([]);
    expect(packets.outgoing('alice')).toEqual([]);
    expect(packets.incoming('alice', 7)).toBeUndefined();
    expect(packets.will('alice@laptop')).toBeUndefined();
    expect(packets.outgoing('bob')).toHaveLength(1);
    expect(packets.bytes).toBe(10);
  });
});
