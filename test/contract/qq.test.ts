import { runContractSuite } from './suite';
import { platformTarget } from './platform-target';

// wx-shaped as far as documented.
runContractSuite('qq (wx-shaped, on the Node qq runtime)', platformTarget('qq'));
