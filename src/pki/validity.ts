import { PkiError } from './pki_error.js';

export const DAY_MS = 86_400_000;
/** Backdating notBefore absorbs clock skew between us and peers that check it. */
export const BACKDATE_MS = 60_000;

/**
 * The validity window of a new certificate: from a minute ago until `days`
 * from now, unless the caller fixes either end (tests issue expired and
 * not-yet-valid certificates this way). Refuses an empty or inverted window.
 *
 * @example validityWindow(new Date(), { days: 365 }) // { notBefore: now - 1 min, notAfter: now + 365 d }
 */
export function validityWindow(
  now: Date,
  opts: { days?: number; notBefore?: Date; notAfter?: Date },
): { notBefore: Date; notAfter: Date } {
  const days = opts.days ?? 365;
  if (!Number.isFinite(days) || days <= 0) {
    throw new PkiError('invalid_validity', `days must be a positive number, got ${days}`);
  }
  const notBefore = opts.notBefore ?? new Date(now.getTime() - BACKDATE_MS);
  const notAfter = opts.notAfter ?? new Date(now.getTime() + days * DAY_MS);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime()) || notAfter <= notBefore) {
    throw new PkiError('invalid_validity', 'notAfter must be after notBefore');
  }
  return { notBefore, notAfter };
}
