#!/usr/bin/env bash
# The main job on the embedded default (local keys, no server): generate a key, sign a file, attest it,
# verify both, then show that a tampered file and a wrong key are rejected.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
vouch() { node "$root/dist/cli/main.js" "$@"; }
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

cat > provenance.json <<JSON
{
  "buildDefinition": {
    "buildType": "https://vouch.dev/buildtypes/demo/v1",
    "externalParameters": { "script": "tar -czf app.tgz app.js" },
    "resolvedDependencies": []
  },
  "runDetails": { "builder": { "id": "https://vouch.dev/demo-builder" }, "metadata": { "invocationId": "demo-1" } }
}
JSON
step "Attest SLSA provenance for it" vouch attest app.tgz --key release.key --type slsa --predicate provenance.json --bundle app.att.json
vouch attest app.tgz --key release.key --type slsa --predicate provenance.json --bundle app.att.json

step "Verify the signature" vouch verify app.tgz --key release.pub --bundle app.sigstore.json
vouch verify app.tgz --key release.pub --bundle app.sigstore.json

step "Verify the attestation (binding to the artifact and predicate type)" vouch verify-attestation app.tgz --key release.pub --type slsa --bundle app.att.json
vouch verify-attestation app.tgz --key release.pub --type slsa --bundle app.att.json

step "Inspect the bundle" vouch inspect app.sigstore.json
vouch inspect app.sigstore.json

cp app.tgz tampered.tgz
printf 'x' >> tampered.tgz
step "A tampered artifact is rejected" vouch verify tampered.tgz --key release.pub --bundle app.sigstore.json
expect_fail vouch verify tampered.tgz --key release.pub --bundle app.sigstore.json

vouch keygen --alg ed25519 --out other >/dev/null
step "A wrong key is rejected" vouch verify app.tgz --key other.pub --bundle app.sigstore.json
expect_fail vouch verify app.tgz --key other.pub --bundle app.sigstore.json

step "An attestation of another type is rejected" vouch verify-attestation app.tgz --key release.pub --type cyclonedx --bundle app.att.json
expect_fail vouch verify-attestation app.tgz --key release.pub --type cyclonedx --bundle app.att.json

printf '\n\033[1mDemo complete:\033[0m signed, attested and verified; tampering and a wrong key were rejected.\n'
