import type { AuditLog } from '../audit/audit_log.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import { validateTemplate, type TemplateInput } from '../onboarding/templates.js';
import type { Store } from '../store/store.js';
import type { TemplateAuth, TemplateRecord } from '../store/templates.js';
import type { Actor } from './clients.js';

/** A template as operators see it (`template list|show --json`). */
export interface TemplateView {
  name: string;
  scope: string;
  id_prefix: string;
  cert_days: number;
  auth: TemplateAuth;
  created_at: string;
}

/**
 * Provisioning templates (`latchkey template …`): what a provisioned device
 * becomes. Validate, write durably, audit, like every registry.
 */
export class TemplateRegistry {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
  ) {}

  /**
   * @example templates.create({ name: 'thermostat', scope: 'mqtt:publish:home/{client_id}/telemetry', idPrefix: 'th-' }, 'cli')
   * @throws LatchkeyError invalid_id, invalid_scope, invalid_argument, already_exists
   */
  create(input: TemplateInput, actor: Actor): TemplateView {
    const rule = validateTemplate(input);
    const record: TemplateRecord = { ...rule, createdAt: Date.now() };
    this.store.durably(() => {
      if (this.store.templates.get(rule.name)) throw new LatchkeyError('already_exists', `template "${rule.name}" already exists`);
      this.store.templates.insert(record);
    });
    this.audit.record({ event: 'template.created', principal: null, outcome: 'success', detail: { actor, template: rule.name, scope: rule.scope, id_prefix: rule.idPrefix, auth: rule.auth, cert_days: rule.certDays } });
    return view(record);
  }

  list(): TemplateView[] {
    return this.store.templates.list().map(view);
  }

  /** @throws LatchkeyError not_found */
  show(name: string): TemplateView {
    return view(this.require(name));
  }

  /** Deletes a template and its claims; devices it provisioned stay as they are. */
  delete(name: string, actor: Actor): void {
    this.require(name);
    this.store.durably(() => this.store.templates.delete(name));
    this.audit.record({ event: 'template.deleted', principal: null, outcome: 'success', detail: { actor, template: name } });
  }

  /** @throws LatchkeyError not_found */
  require(name: string): TemplateRecord {
    const template = this.store.templates.get(name);
    if (!template) throw new LatchkeyError('not_found', `no template "${name}"`);
    return template;
  }
}

function view(t: TemplateRecord): TemplateView {
  return { name: t.name, scope: t.scope, id_prefix: t.idPrefix, cert_days: t.certDays, auth: t.auth, created_at: new Date(t.createdAt).toISOString() };
}
