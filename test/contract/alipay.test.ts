import { runContractSuite } from './suite';
import { platformTarget } from './platform-target';

// The documented Alipay shapes only (older clients): `headers`/`status`, fileName, no wx spellings.
runContractSuite('alipay (my.connectSocket multiple + my.request, on the Node Alipay runtime)', platformTarget('alipay'));
