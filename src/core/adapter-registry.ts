import type { AdapterCandidate, ImAdapter } from '../adapter';
import { ImError } from './errors';

/**
 * Entry points register the adapters they ship, in detection order. Like axios' getAdapter(), the
 * first supported one wins and, when none is, the error names each candidate and why it was unusable.
 */
const candidates: AdapterCandidate[] = [];

export function registerAdapter(candidate: AdapterCandidate): void {
  if (!candidates.some((c) => c.name === candidate.name)) candidates.push(candidate);
}

export function detectAdapter(): ImAdapter {
  const reasons: string[] = [];
  for (const c of candidates) {
    let verdict: true | string;
    try {
      verdict = c.isSupported();
    } catch (err) {
      verdict = err instanceof Error ? err.message : String(err);
    }
    if (verdict === true) return c.create();
    reasons.push(`${c.name}: ${verdict}`);
  }
  const detail = reasons.length ? reasons.join('; ') : 'this build registers no adapter';
  throw new ImError(
    'E_NO_ADAPTER',
    `No platform adapter is usable here (${detail}). Pass one explicitly: new ImClient({ adapter }).`,
  );
}
