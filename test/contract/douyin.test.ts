import { runContractSuite } from './suite';
import { platformTarget } from './platform-target';

// Douyin on a current base library: SocketTask usable after success, string close codes, request timeout.
runContractSuite('douyin (tt SocketTask after success + tt.request, on the Node Douyin runtime)', platformTarget('douyin'));
