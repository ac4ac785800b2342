#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { reportError } from './output.js';

/**
 * `latchkey`: the operator CLI (docs/INTERFACE.md#command-line). Everything a command throws
 * ends here as one `error: …` line on stderr and an exit status.
 */
async function main(argv: string[]): Promise<number> {
  const program = buildProgram(packageVersion());
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) return 0; // --help, --version
    return reportError(err, process.stderr, missingCommandHint(program, argv));
  }
}

/** For `latchkey client` with nothing after it: name what could follow. */
function missingCommandHint(program: ReturnType<typeof buildProgram>, argv: string[]): string {
  const group = program.commands.find((c) => argv.includes(c.name()) && c.commands.length > 0);
  const owner = group ?? program;
  const names = owner.commands.map((c) => c.name()).join(', ');
  return `missing command after "${group ? `latchkey ${group.name()}` : 'latchkey'}": use one of ${names}`;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

process.exitCode = await main(process.argv.slice(2));
