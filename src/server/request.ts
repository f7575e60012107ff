import { type FieldsContext, failAt, fromBase64, isVouchError, JsonFields } from '../core/index.js';
import type { ArtifactRef, Tier } from '../policy/index.js';
import type { VerifyApiRequest } from './gate.js';

/** The body of `POST /api/v1/verify`, field by field; the whole body is attacker-controlled. */
const CTX: FieldsContext = {
  code: 'ERR_REQUEST_MALFORMED',
  message: (path, problem) => `request body${path === '' ? '' : `: ${path}`}: ${problem}`,
};

const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;
const TIERS: readonly Tier[] = ['fast', 'deep'];
/** More bundles than this for one artifact is not a real request (a k-of-n threshold needs k). */
export const MAX_BUNDLES = 64;
const MAX_TEXT = 4096;
/** A Sigstore bundle nests about 6 levels deep; far deeper is an attack on recursive code (JSON.stringify). */
const MAX_BUNDLE_DEPTH = 64;

/** Refuses keys the API does not define: a misspelt `tier` must not silently become the default tier. */
function onlyKeys(f: JsonFields, allowed: readonly string[]): void {
  for (const k of f.keys()) if (!allowed.includes(k)) f.fail(k, 'is not a known field');
}

function artifactOf(f: JsonFields): ArtifactRef {
  onlyKeys(f, ['digest', 'name', 'purl', 'oci']);
  const digest = f.string('digest');
  if (!SHA256_DIGEST.test(digest)) f.fail('digest', 'must be sha256:<64 lowercase hex digits>');
  const name = f.optString('name', { max: MAX_TEXT });
  const purl = f.optString('purl', { max: MAX_TEXT });
  if (purl !== undefined && !purl.startsWith('pkg:')) f.fail('purl', 'must be a package URL (pkg:...)');
  const o = f.optObject('oci');
  let oci: ArtifactRef['oci'];
  if (o !== undefined) {
    onlyKeys(o, ['registry', 'repository', 'tag']);
    const tag = o.optString('tag', { max: 128 });
    oci = {
      registry: o.string('registry', { max: 255, nonEmpty: true }),
      repository: o.string('repository', { max: MAX_TEXT, nonEmpty: true }),
      ...(tag === undefined ? {} : { tag }),
    };
  }
  return {
    digest,
    ...(name === undefined ? {} : { name }),
    ...(purl === undefined ? {} : { purl }),
    ...(oci === undefined ? {} : { oci }),
  };
}

/** A bundle is base64 of the bundle file's bytes, or the bundle's JSON inline. */
function bundleBytes(value: unknown, path: string): Uint8Array {
  if (typeof value === 'string') {
    try {
      return fromBase64(value, path);
    } catch (e) {
      if (!isVouchError(e, 'ERR_BASE64')) throw e;
      return failAt(CTX, path, 'is not valid base64');
    }
  }
  // Re-serialised, the engine reads one kind of input; the signed material inside a bundle is base64 text,
  // so JSON.stringify cannot change what a signature covers. JSON.stringify recurses: the depth is bounded first.
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    if (depthOver(value, MAX_BUNDLE_DEPTH))
      return failAt(CTX, path, `nests deeper than ${MAX_BUNDLE_DEPTH} levels`);
    return Buffer.from(JSON.stringify(value), 'utf8');
  }
  return failAt(CTX, path, 'must be a base64 string or a bundle JSON object');
}

/** Whether parsed JSON nests objects and arrays deeper than `max`; iterative, so any depth is safe to ask. */
function depthOver(root: object, max: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [value, depth] = top;
    if (depth > max) return true;
    for (const child of Object.values(value as object))
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

/** Checks the parsed JSON body of `POST /api/v1/verify`; every refusal is ERR_REQUEST_MALFORMED with the path. */
export function parseVerifyRequest(body: unknown): VerifyApiRequest {
  const f = new JsonFields(body, '', CTX);
  onlyKeys(f, ['artifact', 'bundles', 'tier', 'policy']);
  const artifact = artifactOf(f.object('artifact'));
  if (!f.has('bundles')) f.fail('bundles', 'is required (an empty array when there is no evidence)');
  const bundles = f
    .array('bundles', MAX_BUNDLES)
    .map(({ value, path }) => ({ bytes: bundleBytes(value, path), source: `request:${path}` }));
  const tier = f.optString('tier');
  if (tier !== undefined && !TIERS.includes(tier as Tier)) f.fail('tier', 'must be "fast" or "deep"');
  const policy = f.optString('policy', { max: 253 });
  if (policy === '') f.fail('policy', 'must not be empty');
  return {
    artifact,
    bundles,
    ...(tier === undefined ? {} : { tier: tier as Tier }),
    ...(policy === undefined ? {} : { policy }),
  };
}
