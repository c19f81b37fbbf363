import { runContractSuite } from './suite';
import { platformTarget } from './platform-target';

// wx-shaped as far as documented.
runContractSuite('jd (wx-shaped, on the Node jd runtime)', platformTarget('jd'));
