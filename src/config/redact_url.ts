/**
 * The URL with its password (and any `password=` parameter) replaced by
 * `***`: what logs and error messages may show.
 *
 * @example redactUrl('postgres://lk:secret@db/lk') // 'postgres://lk:***@db/lk'
 */
export function redactUrl(raw: string): string {
  let out = raw.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:)[^@/?#]*@/i, '$1***@');
  out = out.replace(/([?&]password=)[^&#]*/gi, '$1***');
  return out;
}
