#!/usr/bin/env bash
# Makes the MQTT certificates: a CA, the broker's server certificate, the hub's client
# certificate (CN hub) and one client certificate per facility (CN = facility code, which
# the broker uses as the MQTT user name for its ACL).
#
#   scripts/make-certs.sh [--host NAME]... OUTDIR FACILITY...
#
# --host adds a DNS name to the server certificate (localhost and 127.0.0.1 are always in).
# Existing files are kept: running it again only adds what is missing, and an existing CA is
# never replaced (that would invalidate every certificate already handed out).
#
# OUTDIR/ca.crt, ca.key          the CA (keep ca.key offline in production)
# OUTDIR/server.crt, server.key  the broker
# OUTDIR/clients/NAME.crt, .key  hub and each facility
set -euo pipefail

DAYS_CA=3650
DAYS_LEAF=825

usage() {
  echo "usage: $0 [--host NAME]... OUTDIR FACILITY..." >&2
  exit 2
}

hosts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --host) [ $# -ge 2 ] || usage; hosts+=("$2"); shift 2 ;;
    --host=*) hosts+=("${1#--host=}"); shift ;;
    -h|--help) usage ;;
    --) shift; break ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage
out="$1"
shift

for code in "$@"; do
  # The same rule as CAREWATCH_FACILITY_CODE; "hub" is the hub's own identity.
  if ! [[ "$code" =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ ]]; then
    echo "invalid facility code: $code" >&2
    exit 2
  fi
  if [ "$code" = "hub" ]; then
    echo "the facility code 'hub' is reserved for the hub's certificate" >&2
    exit 2
  fi
done

umask 077 # keys are created owner-only; certificates are chmod'ed readable below
mkdir -p "$out/clients"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

newkey() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  chmod 600 "$1"
}

# sign NAME KEY CRT EXTFILE: a leaf certificate for CN=NAME signed by the CA.
sign() {
  openssl req -new -key "$2" -subj "/O=CareWatch/CN=$1" -out "$work/req.csr"
  openssl x509 -req -in "$work/req.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
    -CAcreateserial -CAserial "$work/ca.srl" -days "$DAYS_LEAF" -sha256 \
    -extfile "$4" -out "$3.tmp" 2>/dev/null
  chmod 644 "$3.tmp"
  mv "$3.tmp" "$3"
}

if [ ! -f "$out/ca.crt" ]; then
  [ -f "$out/ca.key" ] || newkey "$out/ca.key"
  openssl req -x509 -new -key "$out/ca.key" -subj "/O=CareWatch/CN=CareWatch MQTT CA" \
    -days "$DAYS_CA" -sha256 \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$out/ca.crt.tmp"
  chmod 644 "$out/ca.crt.tmp"
  mv "$out/ca.crt.tmp" "$out/ca.crt"
  echo "created CA $out/ca.crt"
fi
if [ ! -f "$out/ca.key" ]; then
  echo "$out/ca.crt exists without ca.key: cannot sign new certificates" >&2
  exit 1
fi

if [ ! -f "$out/server.crt" ]; then
  san="DNS:localhost,IP:127.0.0.1"
  for h in "${hosts[@]+"${hosts[@]}"}"; do
    if [[ "$h" =~ ^[0-9.]+$ ]]; then san="$san,IP:$h"; else san="$san,DNS:$h"; fi
  done
  cat >"$work/server.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san
EOF
  [ -f "$out/server.key" ] || newkey "$out/server.key"
  sign "${hosts[0]:-localhost}" "$out/server.key" "$out/server.crt" "$work/server.ext"
  echo "created server certificate $out/server.crt ($san)"
fi

cat >"$work/client.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
EOF
for name in hub "$@"; do
  crt="$out/clients/$name.crt"
  key="$out/clients/$name.key"
  [ -f "$crt" ] && continue
  [ -f "$key" ] || newkey "$key"
  sign "$name" "$key" "$crt" "$work/client.ext"
  echo "created client certificate $crt"
done
chmod 755 "$out" "$out/clients"
