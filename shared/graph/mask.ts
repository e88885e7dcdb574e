/**
 * Method details fit for state, audit and logs: enough for a person to recognise the method,
 * never a full phone number, never a secret.
 */

/** "+1 5555550112" → "+1 555*****12": country code and area kept, the rest hidden but the last two digits. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '').length;
  const keepHead = Math.min(4, Math.max(0, digits - 6));
  const keepTail = digits > 4 ? 2 : 0;
  let seen = 0;
  return phone.replace(/\d/g, (digit) => {
    seen += 1;
    return seen <= keepHead || seen > digits - keepTail ? digit : '*';
  });
}

/** "adele.vance@contoso.com" → "a***@contoso.com". */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value : undefined);

/** A short, masked description of a listed method, from an allow-list of fields per type. */
export function describeMethod(kind: string, raw: Record<string, unknown>): string {
  switch (kind) {
    case 'phone': {
      const number = text(raw.phoneNumber);
      return [text(raw.phoneType) ?? 'phone', number ? maskPhone(number) : undefined].filter(Boolean).join(' ');
    }
    case 'email': {
      const address = text(raw.emailAddress);
      return address ? maskEmail(address) : 'email';
    }
    case 'microsoftAuthenticator':
    case 'windowsHelloForBusiness':
    case 'platformCredential':
      return [text(raw.displayName), text(raw.deviceTag), text(raw.phoneAppVersion) ? `app ${String(raw.phoneAppVersion)}` : undefined]
        .filter(Boolean)
        .join(', ') || kind;
    case 'fido2':
      return [...new Set([text(raw.displayName), text(raw.model)].filter(Boolean))].join(', ') || 'security key';
    case 'hardwareOath':
      // Graph keeps these on the token's device (hardwareOathMethods?$expand=device).
      return [text(raw.displayName), [text(raw.manufacturer), text(raw.model)].filter(Boolean).join(' ') || undefined, text(raw.serialNumber) ? `serial …${String(raw.serialNumber).slice(-4)}` : undefined]
        .filter(Boolean)
        .join(', ') || 'hardware token';
    case 'temporaryAccessPass':
      // The list never carries the pass itself; only its window is worth showing.
      return ['Temporary Access Pass', text(raw.startDateTime) ? `from ${String(raw.startDateTime)}` : undefined, typeof raw.lifetimeInMinutes === 'number' ? `${raw.lifetimeInMinutes} min` : undefined]
        .filter(Boolean)
        .join(', ');
    case 'externalAuthentication':
      return text(raw.displayName) ?? 'external method';
    case 'qrCodePin':
      // Its QR codes and PIN are relationships Graph never lists; the creation date tells one badge from the next.
      return ['QR code + PIN', text(raw.createdDateTime) ? `created ${String(raw.createdDateTime).slice(0, 10)}` : undefined].filter(Boolean).join(', ');
    case 'softwareOath':
      return 'authenticator app (OATH)';
    case 'password':
      return 'password';
    default:
      return text(raw.displayName) ?? 'unknown method';
  }
}
