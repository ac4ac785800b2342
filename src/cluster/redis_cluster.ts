import { Redis, type RedisOptions } from 'ioredis';
import type mqemitter from 'mqemitter';
import MQEmitterRedis from 'mqemitter-redis';
import { LatchkeyError } from '../errors/latchkey_error.js';
import type { Logger } from '../log/logger.js';
import { redactUrl } from '../config/redact_url.js';
import { CredentialLocalMq } from './credential_local_mq.js';
import { RedisPersistence } from './redis_persistence.js';

/** How long a start waits for Redis to answer before it refuses. */
const START_TIMEOUT_MS = 5_000;

/**
 * While Redis is down, a command waits for this many reconnection attempts
 * (about 0.3 s with ioredis' back-off) and then fails: Aedes then closes the
 * connection that needed it, and the device reconnects later, rather than
 * holding its PUBLISH for long without an answer.
 */
const RETRIES_PER_COMMAND = 3;

/** The Redis side of a cluster node: the shared message bus and the MQTT state. */
export interface RedisCluster {
  /** Aedes' `mq`: every topic through Redis pub/sub except credential topics, which stay on this node. */
  readonly mq: mqemitter.MQEmitter;
  /** Aedes' durable persistence (put the credential-safe wrapper in front of it). */
  readonly persistence: RedisPersistence;
  /** Whether every connection to Redis is up now (`/healthz`). */
  reachable(): boolean;
  /** Quits the connections; call after Aedes has closed (it closes the bus itself). */
  close(): Promise<void>;
}

/**
 * Connects a node to the cluster's Redis. Refuses to start (`unavailable`,
 * exit 7) when Redis does not answer within {@link START_TIMEOUT_MS}: a node
 * that cannot route would accept devices it cannot serve. Once started,
 * ioredis reconnects on its own (docs/CLUSTER.md, Redis unreachable).
 *
 * @example const cluster = await connectRedisCluster(config.cluster, log);
 * @throws LatchkeyError `unavailable`
 */
export async function connectRedisCluster(url: string, log: Logger): Promise<RedisCluster> {
  const shown = redactUrl(url);
  await probe(url, shown);
  const options: RedisOptions = { maxRetriesPerRequest: RETRIES_PER_COMMAND, connectTimeout: START_TIMEOUT_MS };
  const open = (role: string): Redis => {
    const connection = new Redis(url, options);
    // Reported once per outage, not once per reconnection attempt.
    let down = false;
    connection.on('error', (err: Error) => {
      if (down) return;
      down = true;
      log.error({ redis: shown, role, err: err.message }, 'Redis unreachable; reconnecting');
    });
    connection.on('ready', () => {
      if (!down) return;
      down = false;
      log.info({ redis: shown, role }, 'Redis reachable again');
    });
    return connection;
  };
  const subConn = open('subscribe');
  const pubConn = open('publish');
  const stateConn = open('state');
  const shared = MQEmitterRedis({ subConn, pubConn, matchEmptyLevels: true }) as unknown as mqemitter.MQEmitter & { state: NodeJS.EventEmitter };
  // mqemitter-redis re-emits connection errors here; without a listener the process would die of one.
  shared.state.on('error', () => {});
  const connections = [subConn, pubConn, stateConn];
  return {
    mq: new CredentialLocalMq(shared),
    persistence: new RedisPersistence(stateConn),
    reachable: () => connections.every((c) => c.status === 'ready'),
    async close() {
      // Aedes quit the bus connections; the persistence's `destroy` quits its own. Whatever is left goes now.
      for (const connection of connections) if (connection.status !== 'end') connection.disconnect();
    },
  };
}

async function probe(url: string, shown: string): Promise<void> {
  const connection = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: START_TIMEOUT_MS });
  connection.on('error', () => {});
  try {
    await connection.connect();
    await connection.ping();
  } catch (err) {
    throw new LatchkeyError('unavailable', `--cluster: Redis at ${shown} does not answer: ${(err as Error).message}`);
  } finally {
    connection.disconnect();
  }
}
