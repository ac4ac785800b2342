import type { Config } from '../../config/options.js';
import type { CertificateAuthority } from '../../pki/ca.js';
import type { ClientAuthMethod, ClientRecord } from '../../store/clients.js';
import type { Store } from '../../store/store.js';
import type { PeerCertificate } from '../peer_certificate.js';

/** What a request offers to prove which client it is. */
export interface ClientAuthInput {
  /** The `Authorization` header, if any. */
  authorization: string | undefined;
  /** The form parameters of the request. */
  params: Readonly<Record<string, string>>;
  /** The TLS client certificate, if the connection presented one. */
  peerCertificate: PeerCertificate | null;
}

/** What a method may consult when it verifies a claim. */
export interface ClientAuthEnv {
  store: Store;
  config: Readonly<Config>;
  ca: CertificateAuthority;
  /** Milliseconds since the epoch, the same for every check of one request. */
  nowMs: number;
  /** Absolute URL of the endpoint being called (an assertion's `aud`, RFC 7523 §3). */
  endpointUrl: string;
}

/** A request's claim to be a client, with the proof still to be checked. */
export interface ClientClaim {
  /** The client id the request names (not yet proven). */
  clientId: string;
  /**
   * Checks the proof against `client`, which is null when the id is unknown
   * or registered for another method: then do the same work against dummy
   * data and fail, so timing does not tell the cases apart.
   *
   * @returns null when the proof holds, else the private reason (audit only)
   */
  verify(client: ClientRecord | null, env: ClientAuthEnv): Promise<string | null> | string | null;
}

/**
 * One client authentication method (RFC 8414 / RFC 7591 name), one file
 * each, listed in methods.ts. `present` says whether the request carries
 * this method's credentials (Basic: the header; post: client_secret;
 * private_key_jwt: client_assertion), so the dispatcher can refuse a request
 * carrying two. A method signalled only by a bare client_id
 * (tls_client_auth, RFC 8705 §2) is present when a peer certificate and
 * client_id come without any other method's credentials.
 */
export interface ClientAuthMethodHandler {
  readonly name: ClientAuthMethod;
  /** RFC 8414 `token_endpoint_auth_signing_alg_values_supported` contribution (private_key_jwt). */
  readonly signingAlgs?: readonly string[];
  /** Does the request carry this method's credentials? */
  present(input: ClientAuthInput): boolean;
  /**
   * Reads the claimed client id and the proof.
   *
   * @throws OAuthError invalid_request when the credentials are malformed
   */
  claim(input: ClientAuthInput): ClientClaim;
}
