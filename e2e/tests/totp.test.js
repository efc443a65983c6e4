// The TOTP helper against the RFC 6238 appendix B test vectors (SHA-1), so that a failure
// of the MFA tests is never the helper's fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32Decode, totp } from '../support/totp.js';

test('totp matches the RFC 6238 SHA-1 test vectors', () => {
  // "12345678901234567890" in base32.
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  assert.equal(base32Decode(secret).toString(), '12345678901234567890');
  const vectors = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ];
  for (const [t, want] of vectors) {
    assert.equal(totp(secret, t * 1000, { digits: 8 }), want, `at T=${t}`);
    assert.equal(totp(secret, t * 1000), want.slice(2), `6 digits at T=${t}`);
  }
});
