import { runSim } from './run_sim.js';
import { parseSimArgs, SIM_HELP, SimConfigError, type SimConfig } from './sim_config.js';
import { Timeline } from './timeline.js';

/** `npm run sim`: the simulated home against a latchkey you already run. */
async function main(): Promise<number> {
  let config: SimConfig | null;
  try {
    config = parseSimArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof SimConfigError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (config === null) {
    process.stdout.write(SIM_HELP);
    return 0;
  }
  const timeline = new Timeline({ json: config.json });
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());
  if (config.durationSeconds !== undefined) setTimeout(() => stop.abort(), config.durationSeconds * 1000).unref();
  timeline.note(`simulated home: ${[config.hub?.clientId, ...config.thermostats.map((t) => t.clientId)].filter(Boolean).join(', ')} – Ctrl-C to stop`, 'bold');
  await runSim(config, timeline, stop.signal);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sim failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
