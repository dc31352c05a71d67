/** A stream entry id, `ms-seq` (or `ms`). */
export function validEventId(id: string): boolean {
  return id === '0' || /^\d{1,20}(-\d{1,20})?$/.test(id);
}

/** Orders two stream entry ids (`ms-seq`): negative when a comes first. */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
