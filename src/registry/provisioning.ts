import type { AuditLog } from '../audit/audit_log.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import {
  claimUsable,
  decideProvision,
  refuse,
  type ProvisionKind,
  type ProvisionRefusal,
  type RegistrationPlan,
} from '../onboarding/provision.js';
import { normalizeSerial } from '../pki/serial.js';
import type { Store } from '../store/store.js';
import type { CertificateRegistry, IssuedDeviceCertificate } from './certificates.js';
import type { ClientRegistry, PreparedClient } from './clients.js';

/** A device asking to be provisioned, after its claim was found. */
export interface ProvisionRequest {
  claimId: string;
  clientId: string;
  kind: ProvisionKind;
  /** PKCS#10 PEM, for certificate templates. */
  csrPem?: unknown;
  remote: string | null;
  via: 'mqtt' | 'https';
}

/** The answer of `$provision/<id>/csr/response`, `register/response` and `POST /provision`. */
export type ProvisionOutcome = { ok: true; body: Record<string, unknown> } | ProvisionRefusal;

/** A refusal found inside the transaction, which it rolls back. */
class Refused extends Error {
  constructor(readonly refusal: ProvisionRefusal) {
    super(refusal.description);
  }
}

/**
 * Applies provisioning decisions: the pure core (src/onboarding/provision.ts)
 * decides, this registers. The claim's use is spent in the same durable
 * transaction that registers the client and records its certificate, so a
 * use is spent only on success and two devices racing for the last use
 * cannot both win: the conditional UPDATE lets exactly one through.
 */
export class Provisioner {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly certificates: CertificateRegistry,
    private readonly clients: ClientRegistry,
  ) {}

  /**
   * @example await provisioner.provision({ claimId, clientId: 'th-42', kind: 'csr', csrPem, remote, via: 'mqtt' })
   * // { ok: true, body: { client_id, certificate, ca, scope, not_after } }
   */
  async provision(req: ProvisionRequest): Promise<ProvisionOutcome> {
    const claim = this.store.claims.byId(req.claimId);
    const template = claim ? this.store.templates.get(claim.template) : undefined;
    const plan = decideProvision({ claim, template, clientId: req.clientId, kind: req.kind, idTaken: this.store.nameTaken(req.clientId), now: Date.now() });
    if (!plan.ok) return this.#refused(plan, req);
    const hubRefusal = this.#hubStillVouches(plan);
    if (hubRefusal) return this.#refused(hubRefusal, req, plan.provisionedBy);

    let issued: IssuedDeviceCertificate | null = null;
    if (plan.authMethod === 'tls_client_auth') {
      if (typeof req.csrPem !== 'string' || req.csrPem.length === 0) return this.#refused(refuse('invalid_request', 'csr must be a PEM string'), req);
      try {
        // Only the CSR's key is honoured: CN must be the id, the profile is ours.
        issued = await this.certificates.sign(plan.clientId, { days: plan.certDays, csrPem: req.csrPem });
      } catch (err) {
        if (err instanceof LatchkeyError && (err.code === 'invalid_csr' || err.code === 'invalid_id')) {
          return this.#refused(refuse('invalid_csr', err.message), req);
        }
        throw err;
      }
    }
    // A secret template's device gets a secret (shown once, stored hashed); a certificate one none.
    const client = this.clients.prepare({ id: plan.clientId, scope: plan.scope, authMethod: plan.authMethod });

    try {
      this.store.durably(() => this.#register(plan, issued, client));
    } catch (err) {
      if (err instanceof Refused) return this.#refused(err.refusal, req, plan.provisionedBy);
      throw err;
    }
    this.audit.record({
      event: 'client.provisioned',
      principal: plan.clientId,
      outcome: 'success',
      remote: req.remote,
      detail: {
        claim: plan.claimId,
        template: plan.template,
        provisioned_by: plan.provisionedBy,
        via: req.via,
        auth_method: plan.authMethod,
        ...(issued ? { serial: issued.serial } : {}),
      },
    });
    if (issued) this.certificates.audited(issued, `claim:${plan.claimId}`, true);
    const body: Record<string, unknown> = issued
      ? { client_id: plan.clientId, certificate: issued.certPem, ca: issued.caPem, scope: plan.scope, not_after: issued.notAfter.toISOString() }
      : { client_id: plan.clientId, client_secret: client.secret, scope: plan.scope };
    return { ok: true, body };
  }

  /**
   * A certificate session renews its certificate with a CSR for a new key
   * (`$auth/<id>/cert/renew`). The new certificate is recorded and linked to
   * the one it replaces; the old keeps working until its notAfter, or until
   * the new one is first used when the server runs with --revoke-replaced.
   *
   * @throws LatchkeyError invalid_csr, invalid_id, not_found, conflict
   */
  async renewCertificate(clientId: string, oldSerial: string, csrPem: string, remote: string | null): Promise<IssuedDeviceCertificate> {
    const old = this.store.certificates.bySerial(normalizeSerial(oldSerial));
    if (!old || old.clientId !== clientId) throw new LatchkeyError('not_found', 'the session certificate is not one latchkey issued to this client');
    // The template's lifetime for provisioned devices, else as long as the certificate being replaced.
    const provisioned = this.store.provisionedClients.get(clientId);
    const template = provisioned ? this.store.templates.get(provisioned.template) : undefined;
    const days = template?.certDays ?? Math.max(1, Math.round((old.notAfter - old.notBefore) / 86_400_000));
    const issued = await this.certificates.sign(clientId, { days, csrPem });
    this.store.durably(() => {
      const client = this.store.clients.get(clientId);
      if (!client || client.status !== 'enabled') throw new LatchkeyError('conflict', `client "${clientId}" is disabled or gone`);
      if (this.store.certificates.bySerial(old.serial)?.revokedAt != null) throw new LatchkeyError('conflict', 'the session certificate was revoked');
      this.certificates.record(issued);
      this.store.certificateRenewals.insert({ serial: issued.serial, replaces: old.serial, clientId, createdAt: Date.now() });
    });
    this.audit.record({
      event: 'certificate.renewed',
      principal: clientId,
      outcome: 'success',
      remote,
      detail: { serial: issued.serial, replaces: old.serial, not_after: issued.notAfter.toISOString() },
    });
    this.certificates.audited(issued, `renewal:${old.serial}`, true);
    return issued;
  }

  /**
   * Called when a certificate connects under --revoke-replaced: if it came
   * from a renewal and this is its first use, revokes the certificate it
   * replaced (once: the first-use mark is a conditional update) and returns
   * that serial; null otherwise.
   */
  revokeReplaced(serial: string): string | null {
    const renewal = this.store.certificateRenewals.get(serial);
    if (!renewal) return null;
    const first = this.store.durably(() => this.store.certificateRenewals.markFirstUse(serial, Date.now()));
    if (!first) return null;
    this.certificates.revoke(renewal.replaces, `renewal:${serial}`);
    return renewal.replaces;
  }

  #register(plan: RegistrationPlan, issued: IssuedDeviceCertificate | null, client: PreparedClient): void {
    const now = Date.now();
    if (!this.store.claims.consume(plan.claimId, now)) {
      throw new Refused(claimUsable(this.store.claims.byId(plan.claimId), now) ?? refuse('invalid_claim', `claim used up: ${plan.claimId}`));
    }
    if (this.store.nameTaken(plan.clientId)) throw new Refused(refuse('client_id_taken', `"${plan.clientId}" is already taken`));
    this.clients.insertPrepared([client]);
    this.store.provisionedClients.insert({ clientId: plan.clientId, template: plan.template, claimId: plan.claimId, provisionedBy: plan.provisionedBy, createdAt: now });
    if (issued) this.certificates.record(issued);
  }

  /** A hub's claim stops working when the hub is disabled or deleted. */
  #hubStillVouches(plan: RegistrationPlan): ProvisionRefusal | null {
    if (plan.provisionedBy === null) return null;
    const hub = this.store.clients.get(plan.provisionedBy);
    if (!hub || hub.status !== 'enabled') return refuse('invalid_claim', `the hub that minted the claim is disabled: ${plan.provisionedBy}`);
    return null;
  }

  #refused(refusal: ProvisionRefusal, req: ProvisionRequest, hub: string | null = null): ProvisionRefusal {
    this.audit.record({
      event: 'client.provision_refused',
      principal: req.clientId,
      outcome: 'failure',
      reason: `${refusal.code}: ${refusal.description}`,
      remote: req.remote,
      detail: { claim: req.claimId, via: req.via, ...(hub ? { provisioned_by: hub } : {}) },
    });
    return refusal;
  }
}
