#!/bin/sh
# Makes a CA and the webhook's serving certificate for the Service vouch.vouch-system.svc, in <dir>
# (default ./certs): ca.crt, tls.crt, tls.key. Then prints the two commands that install them.
# For production, prefer cert-manager (docs/kubernetes.md); keep ca.key offline or delete it.
set -eu
dir=${1:-certs}
service=vouch.vouch-system.svc
mkdir -p "$dir"
cd "$dir"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
  -keyout ca.key -out ca.crt -subj "/CN=vouch webhook CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout tls.key -out tls.csr -subj "/CN=$service" 2>/dev/null
printf 'subjectAltName=DNS:%s,DNS:vouch.vouch-system.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' \
  "$service" >ext.cnf
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 \
  -extfile ext.cnf -out tls.crt 2>/dev/null
rm -f tls.csr ext.cnf ca.srl
chmod 644 ca.crt tls.crt
echo "kubectl -n vouch-system create secret tls vouch-tls --cert=$dir/tls.crt --key=$dir/tls.key"
echo "caBundle for webhook.yaml: $(base64 <ca.crt | tr -d '\n')"
