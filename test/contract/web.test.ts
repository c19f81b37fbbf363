import { createWebAdapter } from '../../adapters/web';
import { runContractSuite } from './suite';

// Node has no online/offline events, so network loss is simulated the way it looks to the core:
// the adapter's network hook fires and the socket drops. The weapp run does this for real.
runContractSuite('web (socket.io-client 4 + fetch, in Node)', {
  createAdapter: () => createWebAdapter(),
});
