#!/usr/bin/env bash
# The main job on the embedded default (local keys, no server): generate a key, sign a file, record its
# provenance and SBOM, check licences and known vulnerabilities, attest, verify, then show that a tampered file,
# a wrong key and a wrong attestation type are rejected.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
vouch() { node "$root/dist/bin/vouch.js" "$@"; }
work=$(mktemp -d "${TMPDIR:-/tmp}/vouch-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }
expect_fail() {
  local code=0
  "$@" || code=$?
  if [ "$code" -eq 0 ]; then echo "demo: expected a failure, but the command succeeded" >&2; exit 1; fi
  echo "(rejected as expected, exit code $code)"
}

# A demo-only passphrase; real use: a secret store or the interactive prompt. Never put it on the command line.
export VOUCH_PASSWORD=demo-only-passphrase

step "Generate an ECDSA P-256 key pair" vouch keygen --alg ecdsa-p256 --out release
vouch keygen --alg ecdsa-p256 --out release

printf 'console.log("hello from app v1.0.0");\n' > app.js
tar -czf app.tgz app.js

step "Sign the artifact into a Sigstore bundle" vouch sign app.tgz --key release.key --bundle app.sigstore.json
vouch sign app.tgz --key release.key --bundle app.sigstore.json

step "Record SLSA provenance for it (local build: git, toolchain, lockfile)" vouch provenance --subject app.tgz --output provenance.json
cp "$root/package-lock.json" "$root/package.json" .
vouch provenance --subject app.tgz --output provenance.json

step "Attest the provenance" vouch attest app.tgz --key release.key --type slsa --predicate provenance.json --bundle app.att.json
vouch attest app.tgz --key release.key --type slsa --predicate provenance.json --bundle app.att.json

step "SBOM of the project's lockfile (CycloneDX 1.6), attested" vouch sbom --output sbom.cdx.json
vouch sbom --output sbom.cdx.json
vouch attest app.tgz --key release.key --type cyclonedx --predicate sbom.cdx.json --bundle app.sbom.att.json

cat > licenses.yaml <<YAML
allow: [MIT, ISC, Apache-2.0, BSD-2-Clause, BSD-3-Clause, 0BSD, BlueOak-1.0.0, CC0-1.0, Python-2.0, MPL-2.0]
unknown: warn
nonSpdx: warn
YAML
step "Licence policy over the SBOM" vouch licenses sbom.cdx.json --policy licenses.yaml --output licenses.json
vouch licenses sbom.cdx.json --policy licenses.yaml --output licenses.json ||
  echo "(exit $?: a release gate would stop here; licenses.json records the evidence)"

osv="$root/../shared/vectors/osv"
if [ -d "$osv" ]; then
  mkdir advisories && cp "$osv"/GHSA-*.json advisories/
  step "Import OSV advisories (real GHSA records) and scan the SBOM" vouch vuln db import advisories --db vulns.db
  vouch vuln db import advisories --db vulns.db
  vouch scan sbom.cdx.json --db vulns.db
fi

step "Verify the signature" vouch verify app.tgz --key release.pub --bundle app.sigstore.json
vouch verify app.tgz --key release.pub --bundle app.sigstore.json

step "Verify the attestations (binding to the artifact, predicate type and shape)" vouch verify-attestation app.tgz --key release.pub --type slsa --bundle app.att.json
vouch verify-attestation app.tgz --key release.pub --type slsa --bundle app.att.json
vouch verify-attestation app.tgz --key release.pub --type cyclonedx --bundle app.sbom.att.json

cat > release-gate.yaml <<'YAML'
apiVersion: vouch.dev/v1
kind: Policy
metadata:
  name: demo-release-gate
spec:
  match:
    - name: "*.tgz"
  signatures:
    keys:
      - name: release
        path: release.pub
  attestations:
    - id: provenance
      predicateType: slsa
    - id: sbom
      predicateType: cyclonedx
      conditions:
        - id: complete
          expr: size(sbom.components) > 0 && sbom.components.all(c, c.purl != "")
  baseline:
    buildType: https://vouch.dev/buildtypes/local/v1
  rules:
    - id: permissive-licences
      expr: sbom.components.all(c, c.licenses.all(l, !l.startsWith("GPL") && !l.startsWith("AGPL")))
      mode: warn
YAML
step "Check the release-gate policy, then gate the artifact with it (deep tier)" vouch policy check release-gate.yaml
vouch policy check release-gate.yaml
vouch verify app.tgz --policy release-gate.yaml --bundle app.sigstore.json --attestation app.att.json \
  --attestation app.sbom.att.json --tier deep --explain --sarif vouch.sarif

step "Inspect the bundle" vouch inspect app.sigstore.json
vouch inspect app.sigstore.json

cp app.tgz tampered.tgz
printf 'x' >> tampered.tgz
step "A tampered artifact is rejected" vouch verify tampered.tgz --key release.pub --bundle app.sigstore.json
expect_fail vouch verify tampered.tgz --key release.pub --bundle app.sigstore.json

vouch keygen --alg ed25519 --out other >/dev/null
step "A wrong key is rejected" vouch verify app.tgz --key other.pub --bundle app.sigstore.json
expect_fail vouch verify app.tgz --key other.pub --bundle app.sigstore.json

step "The gate denies the tampered artifact too" vouch verify tampered.tgz --policy release-gate.yaml --bundle app.sigstore.json --attestation app.att.json --attestation app.sbom.att.json
expect_fail vouch verify tampered.tgz --policy release-gate.yaml --bundle app.sigstore.json --attestation app.att.json \
  --attestation app.sbom.att.json

step "An attestation of another type is rejected" vouch verify-attestation app.tgz --key release.pub --type cyclonedx --bundle app.att.json
expect_fail vouch verify-attestation app.tgz --key release.pub --type cyclonedx --bundle app.att.json

printf '\n\033[1mDemo complete:\033[0m signed; provenance and SBOM attested and verified; licences and vulnerabilities checked;\nthe release-gate policy allowed it; tampering, a wrong key and a wrong attestation type were rejected.\n'
