import { runContractSuite } from './suite';
import { platformTarget } from './platform-target';

// DingTalk: Alipay-shaped, dd.httpRequest only, one app-wide socket (no SocketTask).
runContractSuite('dingtalk (dd global socket + dd.httpRequest, on the Node DingTalk runtime)', platformTarget('dingtalk'));
