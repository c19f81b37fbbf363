import { runContractSuite } from './suite';
import { platformTarget } from './platform-target';

// Baidu: errCode failures, offAppShow()/offAppHide() that remove every listener, 6 concurrent requests.
runContractSuite('baidu (swan, on the Node Baidu runtime)', platformTarget('baidu'));
