#!/bin/sh
# Managed by lbdeploy: keepalived's vrrp_script. Healthy when haproxy runs on this node and its
# monitor URI answers. Usage: check_haproxy.sh PORT URI
port=${1:-8405}
uri=${2:-/monitor}
pidof haproxy >/dev/null 2>&1 || exit 1
exec curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:${port}${uri}"
