import type { Command } from 'commander';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { TemplateRegistry, type TemplateView } from '../../registry/templates.js';
import { action, CLI_ACTOR, withStore } from '../context.js';
import { table } from '../output.js';

/**
 * `latchkey template …`: provisioning templates, what a device provisioned
 * with a claim becomes (scopes, id prefix, credential kind).
 *
 * @example registerTemplateCommands(program) // latchkey template create thermostat --scope "…" --id-prefix th-
 */
export function registerTemplateCommands(program: Command): void {
  const template = program.command('template').description('provisioning templates: what a provisioned device becomes');

  template
    .command('create')
    .description('define a template; claims are minted for it')
    .argument('<name>', 'template name (as in provision:<name>)')
    .requiredOption('--scope <scopes>', 'scopes every provisioned device gets; {client_id} stands for its id')
    .option('--id-prefix <prefix>', 'provisioned client ids must start with this', '')
    .option('--cert-days <days>', 'lifetime of certificates issued at provisioning and renewal', '365')
    .option('--auth <kind>', 'cert (the device sends a CSR) or secret (it gets a client secret)', 'cert')
    .action(
      action(([name], opts, cmd) =>
        withStore(cmd, ({ store, audit }) => {
          const certDays = wholeNumber(String(opts.certDays), '--cert-days');
          const view = new TemplateRegistry(store, audit).create(
            { name: name!, scope: String(opts.scope), idPrefix: String(opts.idPrefix), certDays, auth: String(opts.auth) },
            CLI_ACTOR,
          );
          return { json: { ...view }, text: `created template ${view.name}\n${describe(view)}` };
        }),
      ),
    );

  template
    .command('list')
    .description('list templates')
    .action(
      action((_args, _opts, cmd) =>
        withStore(cmd, ({ store, audit }) => {
          const templates = new TemplateRegistry(store, audit).list();
          return {
            json: { templates },
            text:
              templates.length === 0
                ? 'no templates'
                : table([['NAME', 'AUTH', 'ID PREFIX', 'CERT DAYS', 'SCOPE'], ...templates.map((t) => [t.name, t.auth, t.id_prefix || '(any)', String(t.cert_days), t.scope])]),
          };
        }),
      ),
    );

  template
    .command('show')
    .argument('<name>')
    .action(
      action(([name], _opts, cmd) =>
        withStore(cmd, ({ store, audit }) => {
          const view = new TemplateRegistry(store, audit).show(name!);
          return { json: { ...view }, text: describe(view) };
        }),
      ),
    );

  template
    .command('delete')
    .description('delete a template and its claims; provisioned devices stay')
    .argument('<name>')
    .action(
      action(([name], _opts, cmd) =>
        withStore(cmd, ({ store, audit }) => {
          new TemplateRegistry(store, audit).delete(name!, CLI_ACTOR);
          return { json: { name: name!, deleted: true }, text: `deleted template ${name!}` };
        }),
      ),
    );
}

function wholeNumber(text: string, flag: string): number {
  if (!/^\d{1,6}$/.test(text)) throw new LatchkeyError('invalid_argument', `${flag} must be a whole number`);
  return Number(text);
}

function describe(t: TemplateView): string {
  return [
    `name       ${t.name}`,
    `auth       ${t.auth}`,
    `id prefix  ${t.id_prefix || '(any)'}`,
    `cert days  ${t.cert_days}`,
    `scope      ${t.scope}`,
    `created    ${t.created_at}`,
  ].join('\n');
}
