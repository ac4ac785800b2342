import { clientCredentials, type Grant } from './client_credentials.js';

export type { Grant } from './client_credentials.js';

/** The grant types the token endpoint accepts, by `grant_type`. */
export const GRANTS: ReadonlyMap<string, Grant> = new Map([[clientCredentials.type, clientCredentials]]);
