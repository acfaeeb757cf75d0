#!/bin/sh
# Managed by lbdeploy: keepalived's notify script. Records each VRRP instance's state (MASTER, BACKUP,
# FAULT, STOP) so verify, audit and up's wait read keepalived's own view (a node in FAULT cannot take
# the VIP over). Called as: vrrp_state.sh INSTANCE|GROUP NAME STATE PRIORITY
[ "$1" = INSTANCE ] || exit 0
d=/run/lbdeploy/vrrp
mkdir -p "$d" && printf '%s\n' "$3" > "$d/$2.tmp" && mv -f "$d/$2.tmp" "$d/$2"
