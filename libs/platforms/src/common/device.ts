/** A coarse device class from a user agent: enough to pick a template, not to fingerprint. */
export function deviceFromUserAgent(userAgent: string | undefined): 'mobile' | 'tablet' | 'desktop' | undefined {
  if (userAgent === undefined || userAgent.trim() === '') return undefined;
  if (/iPad|Tablet|PlayBook|Silk|Android(?!.*Mobile)/i.test(userAgent)) return 'tablet';
  if (/Mobi|iPhone|iPod|Android|Windows Phone|BlackBerry|Opera Mini/i.test(userAgent)) return 'mobile';
  return 'desktop';
}

/** Postal address parts joined into one line, skipping blanks. */
export function addressLine(parts: readonly (string | undefined)[]): string | undefined {
  const kept = parts.filter((p): p is string => p !== undefined && p.trim() !== '').map((p) => p.trim());
  return kept.length > 0 ? kept.join(', ') : undefined;
}
