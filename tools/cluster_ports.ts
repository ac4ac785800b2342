/** More would collide: node 4's HTTP port would be node 1's WebSocket port. */
export const MAX_NODES = 3;

export interface NodePorts {
  mqtt: number;
  mqtts: number;
  ws: number;
  wss: number;
  http: number;
  https: number;
}

/**
 * The ports of `count` nodes on one machine: node 1 on latchkey's usual
 * ports, each next node one up. WebSocket ports step by two because the
 * usual ws and wss ports (8083, 8084) are themselves neighbours.
 *
 * `offset` is added to every port.
 *
 * @example clusterPorts(2)[1] // { mqtt: 1884, mqtts: 8884, ws: 8085, wss: 8086, http: 8081, https: 8444 }
 */
export function clusterPorts(count: number, offset = 0): NodePorts[] {
  return Array.from({ length: count }, (_, k) => ({
    mqtt: offset + 1883 + k,
    mqtts: offset + 8883 + k,
    ws: offset + 8083 + 2 * k,
    wss: offset + 8084 + 2 * k,
    http: offset + 8080 + k,
    https: offset + 8443 + k,
  }));
}

/** `--port-offset`: moves every port, so a second cluster (or a test) fits beside the first. */
export const MAX_PORT_OFFSET = 50_000;
