#!/bin/sh
# Managed by lbdeploy: reload haproxy (seamless master-worker reload) and confirm the new
# configuration loaded. `systemctl reload` returns before haproxy loads it, and a failure
# (e.g. "Cannot raise FD limit") only shows in the journal while the old worker keeps running.
if ! systemctl is-active --quiet haproxy; then exec systemctl start haproxy; fi
since=$(date '+%Y-%m-%d %H:%M:%S')
systemctl reload haproxy || exit 1
i=0
while [ $i -lt 100 ]; do
  out=$(journalctl -u haproxy --since "$since" -o cat --no-pager 2>/dev/null)
  case "$out" in
    *"Loading failure"*) printf '%s\n' "$out" | grep -E 'ALERT|WARNING' | tail -5 >&2; echo "haproxy did not load the new configuration; the previous one still serves" >&2; exit 1 ;;
    *"Loading success"*) exit 0 ;;
  esac
  i=$((i + 1))
  sleep 0.1
done
echo "haproxy reload: no confirmation in the journal after 10 s" >&2
exit 1
