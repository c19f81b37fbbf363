/**
 * Numeric error codes of docs/protocol.md section 3, in HTTP envelopes and socket acks. Shared by
 * the server and the SDK's source (which maps them onto ImError codes).
 */
export const Code = {
  OK: 0,
  INVALID_ARGUMENT: 40000,
  NO_TOKEN: 40100,
  TOKEN_INVALID: 40101,
  TOKEN_EXPIRED: 40102,
  APP_CREDENTIALS_INVALID: 40103,
  FORBIDDEN: 40300,
  USER_DISABLED: 40301,
  /** The app's backend refused the message (its beforeSend webhook); nothing was stored. */
  REFUSED: 40302,
  NOT_FOUND: 40400,
  CONFLICT: 40900,
  PAYLOAD_TOO_LARGE: 41300,
  RATE_LIMITED: 42900,
  INTERNAL: 50000,
  SHUTTING_DOWN: 50300,
} as const;

export type CodeValue = (typeof Code)[keyof typeof Code];
