/**
 * Paging tokens. Callers treat them as opaque, as AWS's are; the local account's carry the offset of the next
 * item, so any page of any list can be served without keeping state per caller.
 */
export function pageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

/**
 * The offset `token` carries: 0 for no token, undefined for a token this account did not hand out (or one past
 * the end of a list of `total` items). Each service answers an undefined with its own error.
 */
export function pageOffset(token: string | undefined, total: number): number | undefined {
  if (token === undefined || token === '') return 0;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    const offset = (parsed as { offset?: unknown } | null)?.offset;
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0 && offset <= total)
      return offset;
  } catch {
    // not one of ours
  }
  return undefined;
}
