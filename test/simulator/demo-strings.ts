/**
 * The demo's UI texts (demo-miniprogram/utils/i18n.js), so the simulator tests match what the
 * pages show without writing translations of their own:
 *
 *   t('chat.read')          in the language demo-miniprogram/config.js sets (the phones' default)
 *   en('chat.read')         in English, for phones launched with config { lang: 'en' }
 */
import path from 'node:path';
import { DEMO_ROOT } from './page-harness';

type Vars = Record<string, string | number>;
type Table = { [key: string]: string | Table };

interface DemoI18n {
  DEFAULT_LANG: string;
  TABLES: Record<string, Table>;
  lang(): string;
  translate(language: string, key: string, vars?: Vars): string;
}

// eslint-disable-next-line @typescript-eslint/no-var-requires
const i18n = require(path.join(DEMO_ROOT, 'utils/i18n.js')) as DemoI18n;

/** The language the demo runs in when a test does not choose one (config.js's `lang`). */
export const DEMO_LANG = i18n.lang();

export const TABLES = i18n.TABLES;

export function translate(language: string, key: string, vars?: Vars): string {
  const text = i18n.translate(language, key, vars);
  // A typo in a test's key would otherwise compare against the key itself.
  if (text === key) throw new Error(`demo-miniprogram/utils/i18n.js has no text "${key}" for ${language}`);
  return text;
}

export function t(key: string, vars?: Vars): string {
  return translate(DEMO_LANG, key, vars);
}

export function en(key: string, vars?: Vars): string {
  return translate('en', key, vars);
}
