import { type FieldsContext, JsonFields, type JsonValue, sourceContext } from '../core/index.js';
import { MAX_EVIDENCE, MAX_NAME, MAX_SMALL_LIST, MAX_URI } from './cel-types.js';
import { parseDateTime } from './time.js';
import type {
  ArtifactRef,
  PolicyInput,
  SignerInfo,
  VerifiedAttestation,
  VerifiedSignature,
} from './types.js';

/**
 * A PolicyInput from JSON: `vouch policy eval --input` and the `input`/`inputFile` of policy tests (the
 * shape is documented in docs/policy.md "Input"). Times are RFC 3339 strings; `now` defaults to the
 * current time. A fixture states what the engine would have verified; the policy still decides which
 * signers it trusts.
 */

class Reader extends JsonFields {
  date(key: string): Date | undefined {
    const v = this.optString(key, { max: 64 });
    if (v === undefined) return undefined;
    return parseDateTime(v) ?? this.fail(key, `"${v}" is not an RFC 3339 date-time`);
  }
}

function signer(r: Reader): SignerInfo {
  const kind = r.string('kind', { max: 16 });
  if (kind === 'key') {
    const name = r.optString('name', { max: MAX_NAME });
    return {
      kind,
      keyId: r.string('keyId', { max: MAX_NAME, nonEmpty: true }),
      ...(name === undefined ? {} : { name }),
    };
  }
  if (kind === 'certificate') {
    const issuer = r.optString('issuer', { max: MAX_URI });
    const ext = r.optObject('extensions');
    const extensions: Record<string, string> = {};
    for (const k of ext?.keys().slice(0, MAX_SMALL_LIST + 1) ?? []) {
      if (ext === undefined) break;
      extensions[k] = ext.string(k, { max: MAX_URI });
    }
    if (Object.keys(extensions).length > MAX_SMALL_LIST)
      r.fail('extensions', `has more than ${MAX_SMALL_LIST} entries`);
    return {
      kind,
      subject: r.string('subject', { max: MAX_URI, nonEmpty: true }),
      ...(issuer === undefined ? {} : { issuer }),
      extensions,
    };
  }
  return r.fail('kind', 'must be "key" or "certificate"');
}

function evidence(r: Reader, fallback: string): VerifiedSignature {
  const time = r.date('time');
  return {
    signer: signer(r.object('signer')),
    ...(time === undefined ? {} : { time }),
    source: r.optString('source', { max: MAX_URI }) ?? fallback,
  };
}

function artifact(r: Reader): ArtifactRef {
  const digest = r.string('digest', { max: MAX_NAME });
  if (!/^[a-z0-9]+:[0-9a-f]+$/.test(digest))
    r.fail('digest', `"${digest}" is not <algorithm>:<lowercase hex>`);
  const name = r.optString('name', { max: MAX_URI });
  const purl = r.optString('purl', { max: MAX_URI });
  const o = r.optObject('oci');
  const tag = o?.optString('tag', { max: MAX_NAME });
  return {
    digest,
    ...(name === undefined ? {} : { name }),
    ...(purl === undefined ? {} : { purl }),
    ...(o === undefined
      ? {}
      : {
          oci: {
            registry: o.string('registry', { max: MAX_NAME, nonEmpty: true }),
            repository: o.string('repository', { max: MAX_URI, nonEmpty: true }),
            ...(tag === undefined ? {} : { tag }),
          },
        }),
  };
}

/** Reads a PolicyInput; every problem is ERR_INPUT_MALFORMED naming its JSON path. */
export function parsePolicyInput(
  json: unknown,
  opts: { source?: string; context?: FieldsContext } = {},
): PolicyInput {
  const ctx = opts.context ?? sourceContext('ERR_INPUT_MALFORMED', opts.source ?? 'policy input');
  const top = new Reader(json, '', ctx);
  const signatures = top
    .objects('signatures', MAX_EVIDENCE)
    .map((s, i): VerifiedSignature => evidence(s, `input.signatures[${i}]`));
  const attestations = top.objects('attestations', MAX_EVIDENCE).map((a, i): VerifiedAttestation => {
    if (!a.has('predicate')) a.fail('predicate', 'is required');
    return {
      ...evidence(a, `input.attestations[${i}]`),
      predicateType: a.string('predicateType', { max: MAX_URI, nonEmpty: true }),
      predicate: a.raw('predicate') as JsonValue,
    };
  });
  return {
    artifact: artifact(top.object('artifact')),
    signatures,
    attestations,
    now: top.date('now') ?? new Date(),
  };
}
