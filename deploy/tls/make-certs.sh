#!/usr/bin/env sh
# Make a private CA and one certificate for spar's gRPC services (mutual TLS), with openssl.
#
#   deploy/tls/make-certs.sh DIR [SAN ...]
#
# Writes DIR/ca.pem (the CA every service trusts), DIR/spar.pem + DIR/spar.key (the certificate
# every gRPC service presents, as server and as client) and keeps DIR/ca.key for signing more.
# The certificate names localhost, 127.0.0.1 and spar-grpc, plus each SAN given (e.g.
# DNS:judge.spar.svc IP:10.0.0.5). Replicas that register their pod IPs (Kubernetes) are verified
# by the fixed name instead: set SPAR_GRPC_TLS_SERVERNAME=spar-grpc on every service.
# Valid for SPAR_TLS_DAYS days (default 365). The key is readable by its owner only; the images run
# as uid 1000, so for a bind mount (compose) give it to them: SPAR_TLS_KEY_UID=1000 (needs root). An existing DIR/ca.pem + ca.key is reused, so a
# new certificate is trusted by services still holding the old one.
set -eu
dir=${1:?usage: make-certs.sh DIR [SAN ...]}
shift
days=${SPAR_TLS_DAYS:-365}
san="DNS:localhost,IP:127.0.0.1,DNS:spar-grpc"
for s in "$@"; do san="$san,$s"; done
mkdir -p "$dir"
umask 077
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
if [ ! -f "$dir/ca.pem" ] || [ ! -f "$dir/ca.key" ]; then
  # shellcheck disable=SC2086
  openssl req -x509 $ec -keyout "$dir/ca.key" -out "$dir/ca.pem" -days "$days" -subj "/CN=spar gRPC CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
ext="$dir/spar.ext"
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' "$san" > "$ext"
# shellcheck disable=SC2086
openssl req $ec -keyout "$dir/spar.key" -out "$dir/spar.csr" -subj "/CN=spar-grpc" 2>/dev/null
openssl x509 -req -in "$dir/spar.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
  -out "$dir/spar.pem" -days "$days" -extfile "$ext" 2>/dev/null
rm -f "$dir/spar.csr" "$dir/spar.ext" "$dir/ca.srl"
chmod 644 "$dir/ca.pem" "$dir/spar.pem"
chmod 600 "$dir/ca.key" "$dir/spar.key"
if [ -n "${SPAR_TLS_KEY_UID:-}" ]; then chown "$SPAR_TLS_KEY_UID" "$dir/spar.key"; fi
echo "wrote $dir/ca.pem, $dir/spar.pem, $dir/spar.key (subjectAltName $san, $days days)"
