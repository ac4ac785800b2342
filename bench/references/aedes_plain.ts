import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import type { BenchServer } from '../servers/bench_server.js';
import { listen } from './listen.js';

/**
 * The baseline: Aedes 1.2 as it comes, `await Aedes.createBroker()` with
 * in-memory persistence and no authentication or authorization hooks, over
 * plain TCP.
 *
 * @example const server = await startPlainAedes(); // server.ports.mqtt
 */
export async function startPlainAedes(): Promise<BenchServer> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  const port = await listen(server);
  return {
    ports: { mqtt: port },
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
