#!/bin/sh
# Managed by lbdeploy: prove a kubeconfig works with a real authenticated call before it goes live.
# Usage: check_kubeconfig.sh FILE [SERVER]. SERVER (https://host:port) replaces the file's own, e.g.
# the control-plane endpoint behind a VIP. kubectl when present; otherwise curl with the credentials
# in a private temporary folder that is removed whatever happens.
# LBDEPLOY_CHECK_TIMEOUT: seconds the call may take (default 5). On success the last line says which
# client read ("kubectl" or "curl").
set -e
k=$1
t=${LBDEPLOY_CHECK_TIMEOUT:-5}
if command -v kubectl >/dev/null 2>&1; then
  kubectl --kubeconfig "$k" ${2:+--server "$2"} --request-timeout="${t}s" get --raw /api/v1/nodes >/dev/null
  echo kubectl
  exit 0
fi
field() { sed -n "s/^ *$1: *//p" "$k" | head -n 1 | tr -d '"'; }
server=${2:-$(field server)}
[ -n "$server" ] || { echo "no server in $k" >&2; exit 1; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT HUP INT TERM
chmod 700 "$d"
field certificate-authority-data | base64 -d > "$d/ca.crt"
field client-certificate-data | base64 -d > "$d/client.crt"
(umask 077; field client-key-data | base64 -d > "$d/client.key")
code=$(curl -g -sS -o "$d/body" -w '%{http_code}' --max-time "$t" --cacert "$d/ca.crt" --cert "$d/client.crt" --key "$d/client.key" "$server/api/v1/nodes") || { echo "the API at $server refused the connection or the certificate" >&2; exit 1; }
[ "$code" = 200 ] || { echo "the API at $server answered HTTP $code to the kubeconfig's credentials" >&2; exit 1; }
# kube-apiserver indents its JSON for curl's user agent ("kind": "NodeList"): either spelling.
grep -Eq '"kind": ?"NodeList"' "$d/body" || { echo "the API at $server did not answer with a NodeList" >&2; exit 1; }
echo curl
