import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { connackCode, connackReason } from './connack.js';
import { DeviceError } from './device_error.js';
import type { ResolvedOptions } from './options.js';

/**
 * One CONNECT attempt: resolves with a connected mqtt.js client once the
 * broker sends CONNACK 0, or rejects with a {@link DeviceError} that says
 * why not (`refused` with the return code, or `network`). mqtt.js's own
 * reconnect is off (`reconnectPeriod: 0`): the device's loop decides when to
 * try again and with which token.
 *
 * @example const client = await openConnection(options, token.value);
 */
export function openConnection(opts: ResolvedOptions, password: string | undefined): Promise<MqttClient> {
  const clientOptions: IClientOptions = {
    clientId: opts.clientId, // docs/INTERFACE.md#mqtt: MQTT client id = client id
    protocolVersion: 4, // MQTT 3.1.1
    clean: opts.clean,
    keepalive: opts.keepalive,
    reconnectPeriod: 0,
    connectTimeout: opts.connectTimeoutMs,
    resubscribe: false,
    ...(opts.mode === 'jwt' ? { username: opts.clientId, password } : {}),
    ...(opts.mode === 'certificate' ? { cert: opts.cert, key: opts.key } : {}),
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    rejectUnauthorized: true,
  };
  const client = connect(opts.mqttUrl, clientOptions);

  return new Promise((resolve, reject) => {
    const settle = (err: DeviceError | null): void => {
      client.off('connect', onConnect);
      client.off('error', onError);
      client.off('close', onClose);
      if (err === null) {
        resolve(client);
      } else {
        // mqtt.js may emit more errors while tearing down; an 'error' without a listener would throw.
        client.on('error', () => {});
        client.end(true);
        reject(err);
      }
    };
    const onConnect = (): void => settle(null);
    const onError = (err: Error): void => {
      const code = connackCode(err);
      settle(
        code !== null
          ? new DeviceError('refused', `connection refused: ${connackReason(code)}`, code, { cause: err })
          : new DeviceError('network', `cannot connect to ${opts.mqttUrl}: ${err.message}`, undefined, { cause: err }),
      );
    };
    // A socket closed without an error (or a CONNACK timeout) still ends the attempt.
    const onClose = (): void => settle(new DeviceError('network', `connection to ${opts.mqttUrl} closed before CONNACK`));
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
  });
}
