import mqttPacket from 'mqtt-packet';
import net from 'node:net';

/** A socket speaking MQTT through mqtt-packet, for packets mqtt.js refuses to send. */
export interface RawMqtt {
  socket: net.Socket;
  send(packet: object): void;
  /** The CONNACK return code, once it arrives. */
  connack: Promise<number>;
  closed: Promise<void>;
}

/**
 * Opens a raw MQTT connection. `patchConnect` may rewrite the encoded
 * CONNECT (mqtt-packet refuses to encode some invalid ones).
 */
export function rawMqtt(port: number, connect: Record<string, unknown>, patchConnect?: (bytes: Buffer) => Buffer): RawMqtt {
  const socket = net.connect(port, '127.0.0.1');
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const send = (packet: object) => socket.write(mqttPacket.generate(packet as mqttPacket.Packet));
  const connack = new Promise<number>((resolve, reject) => {
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') resolve((p as mqttPacket.IConnackPacket).returnCode ?? -1);
    });
    socket.once('close', () => reject(new Error('closed before CONNACK')));
  });
  connack.catch(() => {});
  socket.on('data', (d) => parser.parse(d));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.once('connect', () => {
    const bytes = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, ...connect } as mqttPacket.Packet);
    socket.write(patchConnect ? patchConnect(bytes) : bytes);
  });
  return { socket, send, connack, closed };
}

/** Clears the Clean Session flag of an encoded CONNECT [MQTT-3.1.2-4]. */
export function withoutCleanSession(bytes: Buffer): Buffer {
  const at = bytes.indexOf('MQTT\u0004', 0, 'latin1') + 5;
  const patched = Buffer.from(bytes);
  patched[at] = patched[at]! & ~0x02;
  return patched;
}
