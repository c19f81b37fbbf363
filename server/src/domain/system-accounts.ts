import { ApiError, Code } from '../errors';

/**
 * User ids starting with "@" belong to system accounts (`@system`: what the server REST API sends
 * as when it names no sender). No token is issued or accepted for one and no client registers
 * one, so a message from an "@" id always came from the app's backend.
 */
export const SYSTEM_PREFIX = '@';

/** The account the server REST API sends and acts as by default. */
export const SYSTEM_ACCOUNT = { userId: '@system', userName: 'System' } as const;

export function isSystemAccount(userId: string): boolean {
  return userId.startsWith(SYSTEM_PREFIX);
}

/** Refuses an "@" id where a client's user is meant (40000). */
export function requireClientUserId(field: string, userId: string): void {
  if (isSystemAccount(userId)) throw new ApiError(Code.INVALID_ARGUMENT, `${field}: user ids starting with "@" are reserved for system accounts`);
}
