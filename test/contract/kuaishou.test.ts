import { runContractSuite } from './suite';
import { platformTarget } from './platform-target';

// wx-shaped as far as documented.
runContractSuite('kuaishou (wx-shaped, on the Node kuaishou runtime)', platformTarget('kuaishou'));
