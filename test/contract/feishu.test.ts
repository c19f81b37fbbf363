import { runContractSuite } from './suite';
import { platformTarget } from './platform-target';

// Feishu, here on an older base library: no request `timeout`, numeric close codes.
runContractSuite('feishu (tt, older base library, on the Node Feishu runtime)', platformTarget('feishu', { tt: { requestTimeout: false, closeCodeAsString: false } }));
