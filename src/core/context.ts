import type { ImAdapter } from '../adapter';
import { detectAdapter } from './adapter-registry';
import { Emitter } from './emitter';
import { ImError } from './errors';
import type { ImClientEvents } from './events';
import { Log } from './logger';
import { resolveOptions, type ImClientOptions, type ResolvedOptions } from './options';

/**
 * What every module of one client shares: its options, log, public event emitter and adapter.
 * Nothing stateful about the connection or the user lives here; that belongs to its own module.
 */
export class ClientContext {
  readonly opts: ResolvedOptions;
  readonly log: Log;
  readonly events: Emitter<ImClientEvents>;
  private adapterInstance: ImAdapter | undefined;

  constructor(options: ImClientOptions) {
    this.opts = resolveOptions(options);
    this.log = new Log(this.opts.logLevel, options.logger);
    this.events = new Emitter<ImClientEvents>((event, err) =>
      this.log.error(`a listener for "${event}" threw; other listeners still ran`, err),
    );
    if (options.adapter !== undefined) {
      if (!options.adapter || typeof options.adapter.createSocket !== 'function' || typeof options.adapter.request !== 'function') {
        throw new ImError('E_INVALID_ARGUMENT', 'Option "adapter" must implement ImAdapter (createSocket, request, storage).');
      }
      this.adapterInstance = options.adapter;
      this.log.debug(`using injected adapter "${options.adapter.name}"`);
    }
  }

  /** The platform adapter, detected on first use when none was injected. */
  get adapter(): ImAdapter {
    if (!this.adapterInstance) {
      this.adapterInstance = detectAdapter();
      this.log.debug(`detected adapter "${this.adapterInstance.name}"`);
    }
    return this.adapterInstance;
  }

  /** An error no promise reports: to the `error` listeners, or to the log when there are none. */
  emitError(error: ImError): void {
    if (this.events.listenerCount('error') === 0) this.log.error(error.message);
    this.events.emit('error', error);
  }

  /** Releases the adapter (only if one was ever used) and every event listener. */
  dispose(): void {
    try {
      this.adapterInstance?.destroy?.();
    } catch (err) {
      this.log.warn('adapter.destroy() threw', err);
    }
    this.events.off();
  }
}
