import { describe, expect, it } from 'vitest';
import { clusterPorts, MAX_NODES } from '../../tools/cluster_ports.js';

describe('npm run cluster port plan', () => {
  it('puts node 1 on the usual ports', () => {
    expect(clusterPorts(1)[0]).toEqual({ mqtt: 1883, mqtts: 8883, ws: 8083, wss: 8084, http: 8080, https: 8443 });
  });

  it('gives every listener of every node its own port, up to the most nodes it allows', () => {
    const ports = clusterPorts(MAX_NODES).flatMap((node) => Object.values(node));
    expect(new Set(ports).size).toBe(ports.length);
    expect(ports).toHaveLength(MAX_NODES * 6);
  });

  it('steps MQTT ports by one, so devices find the nodes on consecutive ports', () => {
    expect(clusterPorts(3).map((node) => node.mqtt)).toEqual([1883, 1884, 1885]);
  });
});
