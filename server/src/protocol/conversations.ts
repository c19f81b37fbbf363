/** Conversation ids: a private one is the same for both users, whoever sends. */
export function privateConvId(a: string, b: string): string {
  return a < b ? `p:${a}:${b}` : `p:${b}:${a}`;
}

export function groupConvId(groupId: string): string {
  return `g:${groupId}`;
}
