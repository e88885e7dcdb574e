const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isObjectId(value: string): boolean {
  return GUID.test(value);
}

/**
 * `/users/{key}` for an object id or a UPN. A UPN is percent-encoded in full: guest UPNs hold `#EXT#`
 * (a raw `#` would end the path) and encodeURIComponent leaves `'` alone, which OData reads as a quote.
 * A UPN starting with `$` needs the key form `/users('…')`, because `/users/$x` reads as a system option.
 */
export function userPath(idOrUpn: string): string {
  if (isObjectId(idOrUpn)) return `/users/${idOrUpn.toLowerCase()}`;
  if (idOrUpn.startsWith('$')) return `/users('${strictEncode(idOrUpn.replace(/'/g, "''"))}')`;
  return `/users/${strictEncode(idOrUpn)}`;
}

export function strictEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
