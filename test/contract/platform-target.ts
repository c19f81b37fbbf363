/**
 * The contract suite's target for a mini-program platform other than WeChat: each client is a
 * separate simulated phone of that platform (createMiniProgramRuntime from the testing export),
 * running the SDK's adapter for it (createMiniProgramAdapter) on the platform's own API object.
 */
import { readFileSync } from 'node:fs';
import { createMiniProgramAdapter } from '../../adapters/platforms';
import type { ImAdapter } from '../../src/adapter';
import { createMiniProgramRuntime } from '../../testing';
import type { MiniProgramPlatform, MiniProgramRuntime, MiniProgramRuntimeOptions, PlatformApi } from '../../testing';
import type { ContractTarget } from './suite';

export type PlatformOptions = Omit<MiniProgramRuntimeOptions, 'platform'>;

export type PlatformRuntime = MiniProgramRuntime<PlatformApi<MiniProgramPlatform>>;

export function platformPhone(platform: MiniProgramPlatform, options: PlatformOptions = {}): { runtime: PlatformRuntime; adapter: ImAdapter } {
  const runtime = createMiniProgramRuntime({ ...options, platform });
  return { runtime, adapter: createMiniProgramAdapter({ platform, api: runtime.api }) };
}

/** A download the way the platform does it: its downloadFile to a temp path, read back from disk. */
export async function downloadOn(runtime: MiniProgramRuntime<unknown>, url: string): Promise<Buffer> {
  const api = runtime.api as { downloadFile(o: Record<string, unknown>): void };
  const res = await new Promise<{ tempFilePath: string; statusCode?: number }>((resolve, reject) => api.downloadFile({ url, success: resolve, fail: reject }));
  // Alipay's answer has no status code; the others' does.
  if (res.statusCode !== undefined && res.statusCode !== 200) throw new Error(`downloadFile: HTTP ${res.statusCode}`);
  return readFileSync(runtime.realPath(res.tempFilePath)!);
}

export function platformTarget(platform: Exclude<MiniProgramPlatform, 'weapp'>, options: PlatformOptions = {}): ContractTarget {
  const phones = new Map<ImAdapter, PlatformRuntime>();
  return {
    createAdapter() {
      const { runtime, adapter } = platformPhone(platform, options);
      phones.set(adapter, runtime);
      return adapter;
    },
    setOnline(adapter, online) {
      phones.get(adapter)!.setNetwork(online);
    },
    setAppState(adapter, state) {
      const phone = phones.get(adapter)!;
      if (state === 'background') phone.hide({ cutNetworkAfterMs: 50 });
      else phone.show();
    },
    // What these platforms' choosers hand over: a temp path (images, recordings), a file item with its name.
    async pickFile(adapter, file) {
      const path = phones.get(adapter)!.tempFile({ bytes: file.bytes, name: file.name });
      return file.as === 'file' ? { path, name: file.name, size: file.bytes.length } : path;
    },
    download: (adapter, url) => downloadOn(phones.get(adapter)!, url),
    teardown() {
      for (const phone of phones.values()) phone.destroy();
      phones.clear();
    },
  };
}
