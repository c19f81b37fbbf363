export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Anything with these four methods can receive the SDK's logs (console, pino, a remote reporter). */
export interface ImLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ORDER, value);
}

function consoleLogger(): ImLogger {
  // `console` exists on every supported platform (mini-programs included); guard for odd hosts.
  const c: Partial<ImLogger> = typeof console !== 'undefined' ? console : {};
  const noop = () => undefined;
  return {
    debug: (c.debug ?? noop).bind(c),
    info: (c.info ?? noop).bind(c),
    warn: (c.warn ?? noop).bind(c),
    error: (c.error ?? noop).bind(c),
  };
}

/** Filters by level and prefixes every line, so the SDK's output is easy to grep in a busy console. */
export class Log {
  private level: LogLevel;
  private sink: ImLogger;

  constructor(level: LogLevel = 'warn', sink?: ImLogger) {
    this.level = level;
    this.sink = sink ?? consoleLogger();
  }

  setLevel(level: LogLevel): void {
    this.level = level;
  }

  setLogger(sink: ImLogger): void {
    this.sink = sink;
  }

  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }

  private write(level: Exclude<LogLevel, 'silent'>, args: unknown[]): void {
    if (ORDER[level] < ORDER[this.level]) return;
    try {
      this.sink[level]('[comind-im]', ...args);
    } catch {
      // A broken logger must never break messaging.
    }
  }
}
