import type { CertificateIdentity } from '../../pki/certificate_identity.js';
import type { Credential, Principal } from '../session.js';

/** What a CONNECT presents. */
export interface ConnectAttempt {
  /** The MQTT client id. */
  clientId: string;
  username: string | undefined;
  /** The verified client certificate of an MQTTS connection, if any. */
  certificate: CertificateIdentity | null;
  remote: string | null;
  /** The connection is MQTTS (TLS), whether or not it presented a certificate. */
  tls: boolean;
  /** CONNECT asked for a clean session (MQTT 3.1.1 clean session, MQTT 5 clean start). */
  cleanSession: boolean;
}

export interface Authenticated {
  principal: Principal;
  credential: Credential;
}

/**
 * Turns a CONNECT password into a principal and credential, or throws a
 * ConnackError. One resolver per kind of password (JWT, PAT, API key),
 * chosen by {@link handles}, never by trying each in turn.
 */
export interface PasswordResolver {
  readonly name: string;
  handles(password: string): boolean;
  resolve(attempt: ConnectAttempt, password: string): Promise<Authenticated>;
  /**
   * For credentials the change feed can invalidate (PATs, API keys): the
   * credential's current expiry (seconds, Infinity for none), or null when
   * it has been revoked, rolled past its grace or deleted.
   */
  currentExpiry?(credential: Credential): number | null;
}
