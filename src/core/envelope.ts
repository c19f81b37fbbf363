import { ImError, fromServerError } from './errors';
import type { Envelope } from './protocol';

/**
 * Turns a server answer (a socket ack or an HTTP body) into its data or an ImError: the one place
 * that reads the protocol's `{ code, message, data }` envelope. `noEnvelope` is the text for an
 * answer that is not an envelope at all, which usually means the URL points at something else.
 */
export function decodeAck<T>(res: unknown, context: string, opts: { requireData?: boolean; noEnvelope?: string } = {}): T {
  const env = res as Envelope<T> | undefined;
  if (!env || typeof env !== 'object' || typeof env.code !== 'number') {
    throw new ImError('E_SERVER', opts.noEnvelope ?? `${context}: the server answered without an envelope.`);
  }
  if (env.code !== 0 || (opts.requireData && !env.data)) throw fromServerError(env.code, env.message, context);
  return env.data as T;
}

/** The same as a callback for socket acks: `onAck(err)` or `onAck(null, data)`, never a throw. */
export function ackHandler<T>(context: string, onAck: (err: ImError | null, data?: T) => void, opts?: { requireData?: boolean }): (res: unknown) => void {
  return (res) => {
    let data: T;
    try {
      data = decodeAck<T>(res, context, opts);
    } catch (err) {
      onAck(err as ImError);
      return;
    }
    onAck(null, data);
  };
}
