import {
  type FieldsContext,
  failAt,
  JsonFields,
  parseJson,
  sourceContext,
  VouchError,
} from '../core/index.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from './media-types.js';
import { DIGEST_HEX } from './reference.js';

/** image-spec descriptor.md. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** image-spec manifest.md (and Docker schema 2, the same shape). */
export interface ImageManifest {
  readonly kind: 'manifest';
  readonly mediaType: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** image-spec image-index.md (and Docker manifest lists); referrers responses are indexes too. */
export interface ImageIndex {
  readonly kind: 'index';
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

export type Manifest = ImageManifest | ImageIndex;

/** Bounds on attacker-controlled manifests (already size-capped in bytes by the client). */
const MAX_LAYERS = 1024;
const MAX_MANIFESTS = 4096;
const MAX_ANNOTATIONS = 256;
const MAX_STRING = 1024 * 1024;
// RFC 6838 §4.2 type/subtype names, with optional parameters (`;version=0.3`, as early cosign bundles used).
const MEDIA_TYPE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(?:\s*;\s*[A-Za-z0-9!#$&^_.+-]+=(?:[A-Za-z0-9!#$&^_.+-]+|"[^"\\]*"))*$/;

function isCheckableDigest(s: string): boolean {
  const i = s.indexOf(':');
  const alg = s.slice(0, i);
  return (alg === 'sha256' || alg === 'sha512') && DIGEST_HEX[alg].test(s.slice(i + 1));
}

function mediaTypeAt(f: JsonFields, key: string): string {
  const v = f.string(key, { max: 255 });
  if (!MEDIA_TYPE.test(v)) f.fail(key, `"${v}" is not a media type`);
  return v;
}

function annotations(f: JsonFields): Record<string, string> | undefined {
  const a = f.optObject('annotations');
  if (a === undefined) return undefined;
  const keys = a.keys();
  if (keys.length > MAX_ANNOTATIONS) a.fail('', `has ${keys.length} entries; at most ${MAX_ANNOTATIONS}`);
  const out: Record<string, string> = {};
  for (const k of keys)
    Object.defineProperty(out, k, { value: a.string(k, { max: MAX_STRING }), enumerable: true });
  return out;
}

function descriptor(f: JsonFields): Descriptor {
  const mediaType = mediaTypeAt(f, 'mediaType');
  const digest = f.string('digest', { max: 256 });
  if (!isCheckableDigest(digest)) f.fail('digest', `"${digest}" is not a sha256 or sha512 digest`);
  const size = f.raw('size');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    f.fail('size', 'must be a non-negative integer');
  const artifactType = f.has('artifactType') ? mediaTypeAt(f, 'artifactType') : undefined;
  const a = annotations(f);
  return {
    mediaType,
    digest,
    size,
    ...(artifactType === undefined ? {} : { artifactType }),
    ...(a === undefined ? {} : { annotations: a }),
  };
}

const MANIFEST_TYPES = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);
const INDEX_TYPES = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);

/**
 * Reads a manifest or index fetched from a registry (attacker-controlled): schema version 2, a known media
 * type (the document's `mediaType`, else the Content-Type it came with), descriptors with checkable digests.
 * Unknown fields are ignored (image-spec: implementations MUST ignore unknown properties). Every failure is
 * ERR_OCI_MANIFEST naming `source` and the JSON path.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined, source: string): Manifest {
  const ctx: FieldsContext = sourceContext('ERR_OCI_MANIFEST', source);
  let json: unknown;
  try {
    json = parseJson(bytes, source);
  } catch (e) {
    throw new VouchError('ERR_OCI_MANIFEST', `${source}: not a JSON manifest`, {
      cause: e,
      details: { source },
    });
  }
  const f = new JsonFields(json, '', ctx);
  if (f.raw('schemaVersion') !== 2) f.fail('schemaVersion', 'must be 2');
  const declared = f.has('mediaType') ? mediaTypeAt(f, 'mediaType') : undefined;
  const mediaType = declared ?? contentType;
  if (mediaType === undefined)
    failAt(ctx, 'mediaType', 'is required (the registry sent no Content-Type either)');
  const subject = f.optObject('subject');
  const a = annotations(f);
  const common = {
    mediaType,
    ...(subject === undefined ? {} : { subject: descriptor(subject) }),
    ...(a === undefined ? {} : { annotations: a }),
  };
  if (MANIFEST_TYPES.has(mediaType)) {
    const artifactType = f.has('artifactType') ? mediaTypeAt(f, 'artifactType') : undefined;
    return {
      kind: 'manifest',
      ...common,
      ...(artifactType === undefined ? {} : { artifactType }),
      config: descriptor(f.object('config')),
      layers: f.objects('layers', MAX_LAYERS).map(descriptor),
    };
  }
  if (INDEX_TYPES.has(mediaType)) {
    return { kind: 'index', ...common, manifests: f.objects('manifests', MAX_MANIFESTS).map(descriptor) };
  }
  return failAt(ctx, 'mediaType', `${mediaType} is not an OCI or Docker v2 manifest or index`);
}

/** The JSON of a descriptor, fields in image-spec order, optional ones only when set. */
export function descriptorJson(d: Descriptor): Record<string, unknown> {
  return {
    mediaType: d.mediaType,
    ...(d.artifactType === undefined ? {} : { artifactType: d.artifactType }),
    digest: d.digest,
    size: d.size,
    ...(d.annotations === undefined ? {} : { annotations: d.annotations }),
  };
}
