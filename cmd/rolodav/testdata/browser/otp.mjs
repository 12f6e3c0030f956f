// One-time codes as an authenticator app computes them, for the scenarios
// that turn two-factor sign-in on.
import { createHmac } from 'node:crypto';

// RFC 6238 (TOTP) over RFC 4226 (HOTP): HMAC-SHA-1, 6 digits, 30 s.
function base32(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const c of s.replace(/\s/g, '').toUpperCase()) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${JSON.stringify(s)}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
      value &= (1 << bits) - 1;
    }
  }
  return Buffer.from(out);
}

function hotp(key, counter) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const h = createHmac('sha1', key).update(msg).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

export const stepOf = (ms) => Math.floor(ms / 30_000);
export const totp = (secret, step) => hotp(base32(secret), step);

// The RFC's test vector, so that a wrong code means the server.
if (totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', stepOf(59_000)) !== '287082') {
  throw new Error('the scenarios compute RFC 6238 codes wrong');
}
