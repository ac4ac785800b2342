import { parseArgs } from 'node:util';
import { runScenario } from './demo/scenario.js';
import { Timeline } from './timeline.js';

const HELP = `npm run demo [-- --json] [-- --duration 24]

Starts latchkey on free ports in a temporary directory, provisions a home hub,
two thermostats (one with client credentials, one with a device certificate)
and a rogue device with the CLI, runs a compressed day, disables a thermostat
mid-run, and prints the timeline. Exits 0 only if every expected event happened.

  --json            one JSON object per line (timeline entries, then the checks)
  --duration <s>    seconds of device activity (default 24, at most 50)
  -h, --help        this text
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean', default: false }, duration: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const duration = values.duration === undefined ? 24 : Number(values.duration);
  if (!Number.isFinite(duration) || duration < 16 || duration > 50) {
    process.stderr.write('error: --duration must be between 16 and 50 seconds\n');
    return 2;
  }
  const timeline = new Timeline({ json: values.json });
  // Ctrl-C: stop early but still stop the server and remove the temporary directory.
  const interrupt = new AbortController();
  process.once('SIGINT', () => interrupt.abort());
  let result;
  try {
    result = await runScenario({ timeline, durationMs: duration * 1000, signal: interrupt.signal });
  } catch (err) {
    if (interrupt.signal.aborted) {
      process.stderr.write('interrupted; cleaned up\n');
      return 130;
    }
    throw err;
  }
  const { checks, ok } = result;

  if (values.json) {
    process.stdout.write(`${JSON.stringify({ checks, ok })}\n`);
  } else {
    timeline.note('');
    timeline.note('what had to happen', 'bold');
    for (const c of checks) {
      const mark = c.ok ? timeline.paint('✔', 'green') : timeline.paint('✘', 'red');
      timeline.note(`  ${mark} ${c.description}${c.ok || !c.detail ? '' : timeline.paint(`  (${c.detail})`, 'dim')}`);
    }
    timeline.note(ok ? 'all good.' : `${checks.filter((c) => !c.ok).length} expectation(s) not met.`, 'bold');
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
