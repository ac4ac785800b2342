import type { AuditLog } from '../audit/audit_log.js';
import { LatchkeyError, type LatchkeyErrorCode } from '../errors/latchkey_error.js';
import type { CertificateAuthority } from '../pki/ca.js';
import { buildCrl } from '../pki/crl.js';
import type { CrlCache } from '../pki/crl_cache.js';
import { issueDeviceCertificate } from '../pki/issue_certificate.js';
import { PkiError } from '../pki/pki_error.js';
import { normalizeSerial } from '../pki/serial.js';
import { x509 } from '../pki/x509.js';
import type { CertificateRecord } from '../store/certificates.js';
import type { Store } from '../store/store.js';
import type { Actor } from './clients.js';
import { validateName } from './validate.js';

/** A device certificate as operators see it (`cert list --json`). */
export interface CertificateView {
  serial: string;
  client_id: string;
  issuer: string;
  /** RFC 8705 `x5t#S256`. */
  fingerprint: string;
  not_before: string;
  not_after: string;
  created_at: string;
  revoked_at: string | null;
  status: 'valid' | 'expired' | 'revoked';
}

/** What `issue` hands back: the certificate, and its key when latchkey generated it. */
export interface IssuedDeviceCertificate {
  serial: string;
  clientId: string;
  certPem: string;
  /** Null when the device sent a CSR and keeps its own key. */
  keyPem: string | null;
  /** The CA certificate, for the device's trust store. */
  caPem: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint: string;
  /** The certificates table's issuer key of the CA that signed it. */
  issuer: string;
}

/** Where the CA comes from: the server has it loaded; the CLI reads it from --certs-dir only when it signs. */
export type CaSource = CertificateAuthority | (() => Promise<CertificateAuthority>);

/** Device certificates live at most this long, whatever `--days` says (about ten years). */
const MAX_DAYS = 3650;

/** PkiError codes that are the operator's input, and what the CLI calls them. */
const INPUT_ERRORS: Record<string, LatchkeyErrorCode> = {
  invalid_client_id: 'invalid_id',
  invalid_validity: 'invalid_argument',
  invalid_csr: 'invalid_csr',
  csr_subject_mismatch: 'invalid_csr',
};

/**
 * The issuer key of the certificates table: the CA's subject key identifier
 * (RFC 5280 §4.2.1.2), which names the CA key itself, so certificates from a
 * CA that was replaced under the same name never collide with the new one's.
 *
 * @example issuerKey(ca) // 'ski:3f9a…'
 */
export function issuerKey(ca: Pick<CertificateAuthority, 'cert'>): string {
  const ski = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  return ski ? `ski:${ski.keyId.toLowerCase()}` : ca.cert.subject;
}

/**
 * {@link issuerKey} of a CA certificate file, without its key (which may be sealed).
 *
 * @example issuerKeyOfPem(readFileSync('certs/ca.crt', 'utf8')) // 'ski:3f9a…'
 */
export function issuerKeyOfPem(caCertPem: string): string {
  return issuerKey({ cert: new x509.X509Certificate(caCertPem) });
}

/**
 * Device certificates (docs/INTERFACE.md#command-line `cert issue|list|revoke`, `GET /pki/crl`),
 * shared by the CLI and the server. Like ClientRegistry: validate, write
 * durably with a change-feed entry (so a running server ends sessions within
 * a second), then audit.
 */
export class CertificateRegistry {
  #ca: Promise<CertificateAuthority> | null;

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly caSource: CaSource,
  ) {
    this.#ca = typeof caSource === 'function' ? null : Promise.resolve(caSource);
  }

  /**
   * Issues a certificate with CN = `clientId` for a registered client:
   * a fresh P-256 key pair, or the key of the device's CSR (its signature
   * checked, its CN must be the client id). Recorded by issuer and serial.
   *
   * `deliver`, when given, runs after signing and before the certificate is
   * recorded (the CLI writes the files there): if it throws, nothing is
   * recorded, so bad input or an unwritable directory changes nothing.
   *
   * @example const issued = await certs.issue('thermostat-1', { days: 90 }, 'cli');
   * @throws LatchkeyError invalid_id, not_found, invalid_argument, invalid_csr
   */
  async issue(
    clientId: string,
    opts: { days?: number; csrPem?: string },
    actor: Actor,
    deliver?: (issued: IssuedDeviceCertificate) => void | Promise<void>,
  ): Promise<IssuedDeviceCertificate> {
    validateName(clientId);
    if (!this.store.clients.get(clientId)) {
      // A certificate names a registered client; say how to register one rather than only "no".
      throw new LatchkeyError('not_found', `no client "${clientId}": register it first with \`latchkey client create ${clientId} --scope "..."\``);
    }
    const result = await this.sign(clientId, opts);
    await deliver?.(result);
    this.store.durably(() => {
      // The client might have been deleted meanwhile (another process); don't certify nobody.
      if (!this.store.clients.get(clientId)) throw new LatchkeyError('not_found', `no client "${clientId}"`);
      this.record(result);
    });
    this.audited(result, actor, opts.csrPem !== undefined);
    return result;
  }

  /**
   * Signs a device certificate without recording it: the first half of
   * {@link issue}, for callers that record it inside a transaction of
   * their own (provisioning registers the client, spends the claim and
   * records the certificate in one). An unrecorded certificate is useless.
   *
   * @throws LatchkeyError invalid_id, invalid_argument, invalid_csr
   */
  async sign(clientId: string, opts: { days?: number; csrPem?: string }): Promise<IssuedDeviceCertificate> {
    validateName(clientId);
    const days = opts.days ?? 365;
    if (!Number.isFinite(days) || days <= 0 || days > MAX_DAYS) {
      throw new LatchkeyError('invalid_argument', `--days must be a number of days between 1 and ${MAX_DAYS}`);
    }
    const ca = await this.#loadCa();
    // RFC 5280 §6.1.3: a certificate outliving its CA fails path validation then; refuse it now.
    if (Date.now() + days * 86_400_000 > ca.cert.notAfter.getTime()) {
      throw new LatchkeyError('invalid_argument', `the CA expires on ${ca.cert.notAfter.toISOString()}; ask for fewer days`);
    }
    let issued;
    try {
      issued = await issueDeviceCertificate(ca, { clientId, days, ...(opts.csrPem !== undefined ? { csrPem: opts.csrPem } : {}) });
    } catch (err) {
      const code = err instanceof PkiError ? INPUT_ERRORS[err.code] : undefined;
      if (code) throw new LatchkeyError(code, err instanceof Error ? err.message : String(err));
      throw err;
    }
    return {
      serial: issued.serial,
      clientId,
      certPem: issued.certPem,
      keyPem: issued.keyPem,
      caPem: ca.certPem,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
      fingerprint: issued.fingerprint,
      issuer: issuerKey(ca),
    };
  }

  /** Records a signed certificate; call inside `store.durably` (the caller's transaction). */
  record(issued: IssuedDeviceCertificate): void {
    this.store.certificates.insert({
      issuer: issued.issuer,
      serial: issued.serial,
      clientId: issued.clientId,
      fingerprint: issued.fingerprint,
      notBefore: issued.notBefore.getTime(),
      notAfter: issued.notAfter.getTime(),
      createdAt: Date.now(),
    });
  }

  /** The audit event of an issued certificate, once its record is committed. */
  audited(issued: IssuedDeviceCertificate, actor: Actor, csr: boolean, extra: Record<string, unknown> = {}): void {
    this.audit.record({
      event: 'certificate.issued',
      principal: issued.clientId,
      outcome: 'success',
      detail: { actor, serial: issued.serial, not_after: issued.notAfter.toISOString(), csr, ...extra },
    });
  }

  /**
   * Signs a certificate and key for each id without recording anything:
   * for clients being imported, which do not exist until the import's
   * transaction commits; record them inside it with {@link recordSigned}.
   *
   * @throws LatchkeyError invalid_argument (days)
   */
  async signUnrecorded(clientIds: readonly string[], days = 365): Promise<IssuedDeviceCertificate[]> {
    const out: IssuedDeviceCertificate[] = [];
    for (const clientId of clientIds) out.push(await this.sign(clientId, { days }));
    return out;
  }

  /**
   * Records certificates from {@link signUnrecorded}: `inTransaction` inside
   * the transaction that creates their clients, `afterCommit` (the audit
   * events) once it has committed.
   */
  recordSigned(issued: readonly IssuedDeviceCertificate[], actor: Actor): { inTransaction(): void; afterCommit(): void } {
    return {
      inTransaction: () => issued.forEach((c) => this.record(c)),
      afterCommit: () => issued.forEach((c) => this.audited(c, actor, false, { import: true })),
    };
  }

  /** Every recorded certificate, newest first; only `clientId`'s when given. */
  list(clientId?: string): CertificateView[] {
    const now = Date.now();
    return this.store.certificates.list(clientId).map((r) => view(r, now));
  }

  /**
   * Revokes a certificate by serial (any spelling: `5F:0C:…`, `5f0c…`).
   * Durable before it returns; a running server refuses the certificate and
   * ends sessions using it within a second (change `certificate_revoked`).
   * Revoking twice is not an error: `already_revoked` says so.
   *
   * @example certs.revoke('5F:0C:9A', 'cli') // { serial: '5f0c9a', client_id: 't1', already_revoked: false }
   * @throws LatchkeyError invalid_argument (not a serial), not_found
   */
  revoke(serial: string, actor: Actor): { serial: string; client_id: string; already_revoked: boolean } {
    const normalized = normalizeSerial(serial);
    if (normalized === '' || normalized.length > 40) {
      throw new LatchkeyError('invalid_argument', `"${serial}" is not a certificate serial number (hex, up to 20 octets)`);
    }
    const record = this.store.certificates.bySerial(normalized);
    if (!record) throw new LatchkeyError('not_found', `no certificate with serial ${normalized}`);
    const now = Date.now();
    const revoked = this.store.durably(() => {
      const changed = this.store.certificates.revoke(normalized, now);
      if (changed) this.store.changes.append('certificate_revoked', normalized);
      return changed;
    });
    this.audit.record({
      event: 'certificate.revoked',
      principal: record.clientId,
      outcome: 'success',
      reason: revoked ? null : 'already revoked',
      detail: { actor, serial: normalized },
    });
    return { serial: normalized, client_id: record.clientId, already_revoked: !revoked };
  }

  /**
   * The CA's current CRL (RFC 5280 §5) as DER, listing every revoked
   * certificate it issued. From `cache` when given (re-signed only when a
   * revocation changed it or its nextUpdate is near), else signed fresh.
   *
   * @example reply.type('application/pkix-crl').send(await certs.crl(crls))
   */
  async crl(cache?: CrlCache): Promise<Buffer> {
    const ca = await this.#loadCa();
    const issuer = issuerKey(ca);
    const revoked = this.store.certificates
      .revoked()
      .filter((r) => r.issuer === issuer && r.revokedAt !== null)
      .map((r) => ({ serial: r.serial, revokedAt: new Date(r.revokedAt!) }));
    return cache ? cache.get(ca, revoked) : buildCrl(ca, revoked);
  }

  /** The CA certificate (PEM), for `GET /pki/ca.crt` and device trust stores. */
  async caPem(): Promise<string> {
    return (await this.#loadCa()).certPem;
  }

  #loadCa(): Promise<CertificateAuthority> {
    if (!this.#ca) {
      const load = this.caSource as () => Promise<CertificateAuthority>;
      this.#ca = load().catch((err: unknown) => {
        this.#ca = null;
        throw err;
      });
    }
    return this.#ca;
  }
}

function view(r: CertificateRecord, now: number): CertificateView {
  return {
    serial: r.serial,
    client_id: r.clientId,
    issuer: r.issuer,
    fingerprint: r.fingerprint,
    not_before: new Date(r.notBefore).toISOString(),
    not_after: new Date(r.notAfter).toISOString(),
    created_at: new Date(r.createdAt).toISOString(),
    revoked_at: r.revokedAt === null ? null : new Date(r.revokedAt).toISOString(),
    status: r.revokedAt !== null ? 'revoked' : r.notAfter <= now ? 'expired' : 'valid',
  };
}
