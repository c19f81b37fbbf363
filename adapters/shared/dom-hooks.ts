import type { AppState, Unsubscribe } from '../../src/adapter';
import type { Cleanups } from './cleanups';

type DomTarget = { addEventListener(t: string, f: () => void): void; removeEventListener(t: string, f: () => void): void };

function domListen(cleanups: Cleanups, host: DomTarget, type: string, fn: () => void): Unsubscribe {
  host.addEventListener(type, fn);
  return cleanups.track(() => host.removeEventListener(type, fn));
}

/** A browser page's online/offline events (web adapter, uni-app and Taro H5); a no-op elsewhere. */
export function onBrowserNetworkChange(cleanups: Cleanups, listener: (online: boolean) => void): Unsubscribe {
  if (typeof window === 'undefined' || !window || typeof window.addEventListener !== 'function') return () => undefined;
  const offOnline = domListen(cleanups, window, 'online', () => listener(true));
  const offOffline = domListen(cleanups, window, 'offline', () => listener(false));
  return () => {
    offOnline();
    offOffline();
  };
}

/** A browser page's visibility as the app state (a hidden tab counts as background); a no-op elsewhere. */
export function onPageVisibilityChange(cleanups: Cleanups, listener: (state: AppState) => void): Unsubscribe {
  if (typeof document === 'undefined' || !document || typeof document.addEventListener !== 'function') return () => undefined;
  return domListen(cleanups, document, 'visibilitychange', () => listener(document.visibilityState === 'hidden' ? 'background' : 'foreground'));
}
