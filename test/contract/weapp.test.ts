import { createWeappAdapter } from '../../adapters/weapp';
import type { ImAdapter } from '../../src/adapter';
import { createWxRuntime } from '../../testing';
import type { WxRuntime } from '../../testing';
import { runContractSuite } from './suite';
import { chooseOnPhone, downloadOnPhone } from './wx-files';

// Each client is a separate simulated phone: its own wx runtime (sockets, storage, network).
const phones = new Map<ImAdapter, WxRuntime>();

runContractSuite('weapp (SocketTask transport + wx.request, on the Node wx runtime)', {
  createAdapter() {
    const runtime = createWxRuntime();
    const adapter = createWeappAdapter({ wx: runtime.wx as never });
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
  pickFile: (adapter, file) => chooseOnPhone(phones.get(adapter)!, file),
  download: (adapter, url) => downloadOnPhone(phones.get(adapter)!, url),
  teardown() {
    for (const phone of phones.values()) phone.destroy();
    phones.clear();
  },
});
