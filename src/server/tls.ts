import { createPrivateKey, X509Certificate } from 'node:crypto';
import { VouchError } from '../core/index.js';

/**
 * Checks the server's certificate and key before listening, so a wrong file is a coded error at start-up,
 * not an OpenSSL message from deep in tls.createSecureContext. The key is a secret: no message quotes it.
 */
export function checkTlsMaterial(cert: Buffer, key: Buffer): void {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (e) {
    throw new VouchError('ERR_CERT_MALFORMED', 'the TLS certificate is not a PEM or DER X.509 certificate', {
      cause: e,
    });
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // No cause: OpenSSL's error may describe the key material.
    throw new VouchError('ERR_KEY_MALFORMED', 'the TLS key is not an unencrypted PEM private key');
  }
  if (!certificate.checkPrivateKey(privateKey))
    throw new VouchError('ERR_USAGE', 'the TLS key is not the private key of the TLS certificate');
}
