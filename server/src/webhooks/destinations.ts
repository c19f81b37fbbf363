import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where webhook calls may go. An app chooses its URL and the server makes the calls from its own
 * network, so by default nothing but public unicast addresses is reached: otherwise any app could
 * make the server call its loopback services, the private network or a cloud metadata endpoint.
 */
export interface DestinationPolicy {
  /** IM_WEBHOOK_ALLOW_PRIVATE: no check at all (a backend on the same machine or private network). */
  allowPrivate: boolean;
  /** IM_WEBHOOK_ALLOW_CIDRS: networks allowed although they are not public. */
  allowCidrs: ReadonlyArray<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
}

export const DEFAULT_DESTINATIONS: DestinationPolicy = { allowPrivate: false, allowCidrs: [] };

/** What the error messages tell an operator to set. */
export const ALLOW_HINT = 'IM_WEBHOOK_ALLOW_PRIVATE=1 or IM_WEBHOOK_ALLOW_CIDRS on the server allows it';

/** ipaddr.js range names, in words; any other range but `unicast` is a special-purpose one. */
const RANGE_WORDS: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  uniqueLocal: 'private (unique local)',
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
  rfc6052: 'NAT64',
};

/** The list of IM_WEBHOOK_ALLOW_CIDRS (comma-separated CIDRs or single addresses); throws naming the bad entry. */
export function parseCidrs(text: string): Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> {
  const out: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    if (ipaddr.isValidCIDR(entry)) {
      const [addr, bits] = ipaddr.parseCIDR(entry);
      // ::ffff:10.0.0.0/104 would never match: addresses are compared in their IPv4 form.
      out.push(addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96 ? [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96] : [addr, bits]);
    } else if (isIP(entry)) {
      const addr = ipaddr.process(entry);
      out.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
    } else {
      throw new Error(`"${entry}" is not a CIDR (such as 10.1.0.0/16 or fd00::/8) or an IP address`);
    }
  }
  return out;
}

/**
 * Why a call may not go to this IP address (`10.0.0.5 is a private address`), or undefined when it
 * may. IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
 */
export function addressRefusal(policy: DestinationPolicy, address: string): string | undefined {
  if (policy.allowPrivate) return undefined;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(address);
  } catch {
    return `${address} is not an IP address`;
  }
  const range = addr.range();
  if (range === 'unicast') return undefined;
  if (policy.allowCidrs.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits))) return undefined;
  const words = RANGE_WORDS[range] ?? `special-purpose (${range})`;
  return `${address} is ${/^[aeiou]/.test(words) ? 'an' : 'a'} ${words} address`;
}

/** A call refused by the policy; http-call reports it as such rather than as a network error. */
export class DestinationRefused extends Error {
  readonly code = 'E_DESTINATION_REFUSED';
  constructor(reason: string) {
    super(`destination refused: ${reason} (${ALLOW_HINT})`);
    this.name = 'DestinationRefused';
  }
}

/** The host of a URL as a connection sees it: IPv6 without its brackets. */
function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** The refusal of a URL whose host is an IP address (no DNS needed); undefined for a name or an allowed address. */
export function literalRefusal(policy: DestinationPolicy, url: string): string | undefined {
  let host: string;
  try {
    host = hostOf(new URL(url));
  } catch {
    return undefined;
  }
  return isIP(host) ? addressRefusal(policy, host) : undefined;
}

/**
 * `lookup` for the connections of webhook calls: the name is resolved here, and only allowed
 * addresses are handed to the socket, so the address connected to is the one checked (a DNS
 * answer that changes between the configuration and the call, or between two calls, cannot
 * get round the check). With every answer refused the connection fails with DestinationRefused.
 */
export function guardedLookup(policy: DestinationPolicy) {
  return (hostname: string, options: { all?: boolean; family?: number | string; hints?: number }, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    dnsLookup(hostname, { ...options, all: true } as { all: true; hints?: number }, (err, addresses) => {
      if (err) return callback(err, '');
      const allowed = addresses.filter((a) => addressRefusal(policy, a.address) === undefined);
      if (!allowed.length) return callback(new DestinationRefused(addressRefusal(policy, addresses[0]?.address ?? hostname) ?? `${hostname} has no address`), '');
      if (options.all) callback(null, allowed);
      else callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

/** How long the configuration check waits for DNS before leaving the decision to the calls. */
const CONFIG_LOOKUP_MS = 3000;

/**
 * The check when a configuration is stored: the problem (for a 40000), or undefined. An IP
 * address is judged as it is; a name is refused only when every address it resolves to is, and
 * one that does not resolve now is accepted: every call checks again where it connects. For a
 * name the answer does not say which addresses it has, only what kind they are, so an app cannot
 * use the check to map names inside the server's network.
 */
export async function destinationProblem(policy: DestinationPolicy, url: string, opts: { resolve?: boolean } = {}): Promise<string | undefined> {
  if (policy.allowPrivate) return undefined;
  let host: string;
  try {
    host = hostOf(new URL(url));
  } catch {
    return undefined;
  }
  const because = `webhook calls to loopback, private, link-local and other non-public addresses are refused (${ALLOW_HINT})`;
  if (isIP(host)) {
    const reason = addressRefusal(policy, host);
    return reason && `url: ${reason}; ${because}`;
  }
  if (opts.resolve === false) return undefined;
  const addresses = await new Promise<LookupAddress[]>((resolve) => {
    const timer = setTimeout(() => resolve([]), CONFIG_LOOKUP_MS);
    timer.unref();
    dnsLookup(host, { all: true }, (err, found) => {
      clearTimeout(timer);
      resolve(err ? [] : found);
    });
  });
  const reasons = addresses.map((a) => addressRefusal(policy, a.address));
  if (!reasons.length || reasons.some((r) => r === undefined)) return undefined;
  const kinds = [...new Set(reasons.map((r) => r!.replace(/^.* is an? (.*) address$/, '$1')))];
  return `url: ${host} resolves only to ${kinds.join(' or ')} addresses; ${because}`;
}
