/**
 * Deterministic identifiers: the n-th image, instance or request of a run always gets the same id, so two
 * rehearsals of the same fleet with the same calls produce identical output.
 */
export class IdGenerator {
  private counters = new Map<string, number>();

  private next(kind: string): number {
    const n = (this.counters.get(kind) ?? 0) + 1;
    this.counters.set(kind, n);
    return n;
  }

  /** An EC2-style id: `prefix-` and 17 hex digits (`ami-0000000000000a001`). */
  resource(prefix: 'ami' | 'snap' | 'i' | 'lt' | 'vol' | 'r'): string {
    const n = this.next(prefix);
    return `${prefix}-0${(0xa000 + n).toString(16).padStart(16, '0')}`;
  }

  /** A UUID-shaped id (refresh ids, request ids, message ids), distinct per kind. */
  uuid(kind: string): string {
    const n = this.next(kind);
    const kindHex = [...kind]
      .reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)
      .toString(16)
      .padStart(8, '0');
    const hex = n.toString(16).padStart(12, '0');
    return `${kindHex.slice(0, 8)}-0000-4000-8000-${hex}`;
  }
}
