import type { ChaosReport } from './chaos';

/** A human-readable summary of a chaos run (printed by the long run, quoted in docs/reliability.md). */
export function formatReport(r: ChaosReport): string {
  const c = r.config;
  return [
    `seed ${r.seed}, ${c.users} users on ${c.users + c.secondDevices} clients (weapp every ${c.weappEvery}; ${c.secondDevices} users on two devices), ${c.groups} groups, server ${c.serverMode}`,
    `time ${(r.durationMs / 1000).toFixed(1)} s`,
    `sends: ${r.sends.planned} planned, ${r.sends.resolved} resolved, ${r.sends.timeout} E_TIMEOUT (${r.sends.timeoutAbsent} verified absent), ` +
      `${r.sends.notConnected} E_NOT_CONNECTED (all verified absent), ${r.sends.uncertain} E_SEND_UNCERTAIN (${r.sends.uncertainStored} stored, ${r.sends.uncertain - r.sends.uncertainStored} not), ` +
      `${r.sends.otherRejections} other rejections, ${r.sends.unsettled} unsettled`,
    `stored messages: ${r.stored}`,
    `deliveries: ${r.deliveries.expected} expected, ${r.deliveries.received} received, duplicates ${r.deliveries.duplicates}, lost ${r.deliveries.lost}, ` +
      `unexpected ${r.deliveries.unexpected}, own echoes ${r.deliveries.ownEchoes}, out of order ${r.deliveries.outOfOrder}`,
    `sender order violations: ${r.senderOrderViolations}`,
    `faults: ${r.proxy.cuts} cuts (reset ${r.proxy.cutsByKind.reset}, close ${r.proxy.cutsByKind.close}, stall ${r.proxy.cutsByKind.stall}, late ${r.proxy.cutsByKind.late}, half-open ${r.proxy.cutsByKind.blackhole}), ` +
      `${r.restarts} restarts, ${r.appDisconnects} app disconnect()/connect(), ${r.networkFlaps} weapp network drops, ${r.proxy.accepted} connections through the proxy, ${r.proxy.upstreamErrors} refused/dropped by the server side, ${r.readyEvents} catch-ups (ready)`,
    `database: ${r.db.messages} messages, ${r.db.inboxEntries} inbox entries, ${r.db.users} users, ${r.db.conversations} conversations, ${r.db.problems.length} problems`,
    `problems: ${r.problems.length}`,
  ].join('\n');
}
