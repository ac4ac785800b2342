// The console's only way to the server: JSON over fetch, same origin, the session cookie
// sent by the browser (HttpOnly: this script never sees it) and the CSRF token in a header.

let csrf = null;

/** Remembers the session's CSRF token (from /console/api/login or /console/api/me). */
export function setCsrf(token) {
  csrf = token;
}

/** An API answer other than 2xx. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Calls the admin API (or the console's own routes). Every change carries the CSRF token;
 * reads do not need it. Throws ApiError with the server's error_description.
 */
export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
    if (csrf) headers['x-csrf-token'] = csrf;
  }
  const res = await fetch(path, init);
  let data = {};
  try {
    data = await res.json();
  } catch {
    data = {};
  }
  if (!res.ok) throw new ApiError(res.status, data.error ?? 'error', data.error_description ?? `${res.status} ${res.statusText}`);
  return data;
}

/** `?a=1&b=2` from the non-empty entries of an object. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : '';
}
