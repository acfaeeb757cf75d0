#!/bin/bash
# Managed by lbdeploy: keepalived's vrrp_script. Healthy when haproxy's monitor URI answers 200 on
# this node (nothing answers when haproxy is not running). Usage: check_haproxy.sh PORT URI
# It runs every check interval on every node, so it starts nothing: bash's own /dev/tcp, no curl
# (curl's TLS start-up alone costs about 3x this whole check, on every node, every second).
port=${1:-8405}
uri=${2:-/monitor}
exec 3<>"/dev/tcp/127.0.0.1/${port}" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$uri" >&3
IFS=' ' read -r -t 1 _ code _ <&3 || exit 1
[ "$code" = 200 ]
