import type { KeyObject } from 'node:crypto';
import { JsonFields, parseJson, sourceContext, VouchError } from '../core/index.js';
import { keyIdOf, verifyWithKey } from '../crypto/index.js';
import {
  assertSubjectMatches,
  INTOTO_PAYLOAD_TYPE,
  parseDsseEnvelope,
  parseStatement,
  type Statement,
  verifyDsse,
} from '../envelope/index.js';
import { splitDigest } from './digest.js';
import type { CosignAttestationEvidence, CosignSignatureEvidence } from './evidence.js';

/** cosign SIGNATURE_SPEC.md §Simple Signing: `critical.type` of a cosign image signature. */
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

/**
 * Verifies a cosign legacy (`.sig` tag) signature: the signature over the simple-signing payload bytes by
 * `key` (ECDSA DER, Ed25519, RSA PKCS#1 v1.5 or PSS, as cosign signs), then the payload's
 * `critical.image.docker-manifest-digest` equal to `digest`. The payload is attacker-controlled and read only
 * after its signature verified. `critical.identity.docker-reference` is ignored, as the spec says.
 */
export function verifyCosignSignature(
  evidence: CosignSignatureEvidence,
  digest: string,
  key: KeyObject,
): { keyId: string } {
  splitDigest(digest);
  if (!verifyWithKey(key, evidence.payload, evidence.signature, { rsaAny: true })) {
    throw new VouchError(
      'ERR_SIGNATURE_INVALID',
      `${evidence.source}: the signature does not verify with the key`,
      {
        details: { check: 'signature', source: evidence.source },
      },
    );
  }
  const what = `cosign payload (${evidence.source})`;
  const f = new JsonFields(parseJson(evidence.payload, what), '', sourceContext('ERR_INPUT_MALFORMED', what));
  const critical = f.object('critical');
  const type = critical.string('type', { max: 256 });
  if (type !== COSIGN_SIGNATURE_TYPE) critical.fail('type', `is "${type}", not "${COSIGN_SIGNATURE_TYPE}"`);
  const signed = critical.object('image').string('docker-manifest-digest', { max: 256 });
  if (signed !== digest) {
    throw new VouchError(
      'ERR_DIGEST_MISMATCH',
      `${evidence.source}: the signature is for ${signed}, not ${digest}`,
      {
        details: { check: 'subject', expected: digest, actual: signed, source: evidence.source },
      },
    );
  }
  return { keyId: keyIdOf(key) };
}

/**
 * Verifies a cosign legacy (`.att` tag) attestation: a DSSE envelope signed by `key` whose in-toto statement
 * has `digest` as a subject. The caller checks the predicate type it wants against `statement.predicateType`.
 */
export function verifyCosignAttestation(
  evidence: CosignAttestationEvidence,
  digest: string,
  key: KeyObject,
): { keyId: string; statement: Statement } {
  const { algorithm, bytes } = splitDigest(digest);
  const env = parseDsseEnvelope(evidence.envelope);
  verifyDsse(env, [{ key }]);
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE) {
    throw new VouchError(
      'ERR_DSSE_PAYLOAD_TYPE',
      `${evidence.source}: the payload is ${env.payloadType}, not in-toto`,
      {
        details: { check: 'payload-type', source: evidence.source },
      },
    );
  }
  const statement = parseStatement(env.payload);
  assertSubjectMatches(statement, { algorithm, digest: bytes });
  return { keyId: keyIdOf(key), statement };
}
