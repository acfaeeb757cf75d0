/** Usage texts, kept apart so `--help` loads no command's modules. */
export const USAGES = {
  up: `Usage: lbdeploy up INVENTORY [--playbook NAME|FILE] [--check] [--diff] [--limit PATTERN]
                   [--tags T1,T2] [--skip-tags T] [--forks N] [--allow-reboot] [--json]
                   [--wait SECONDS | --no-wait]   (default: wait up to 120 s until it serves)
                   [--lock-wait SECONDS]   (default 0: refuse a host another run holds; plan takes no lock)
                   [--no-preflight]   (default: before keepalived's VRIDs change, VRRP must pass between the nodes)
                   [--serial N|P% [--max-fail N]]   (rolling: N clusters (or P% of them) a batch, backups before
                   the VIP holder, a health gate through the VIPs after each batch; a failed batch stops it)
       lbdeploy plan INVENTORY [...]   (= up --check --diff)`,
  hosts: 'Usage: lbdeploy hosts INVENTORY [--limit PATTERN] [--json]',
  facts: 'Usage: lbdeploy facts INVENTORY [--limit PATTERN] [--forks N] [--json]',
  verify: `Usage: lbdeploy verify INVENTORY [--json] [--host-timeout 15] [--forks N]   (exit 1 unless every check is ok)
  VIP on exactly one node, haproxy backends or \`ipvsadm -ln\` against the inventory, curl through each VIP`,
  failover: `Usage: lbdeploy failover-test INVENTORY [--scenario default|all|NAME[,NAME...]] [--max-move SECONDS] [--json]
                              [--rate N] [--timeout SECONDS] [--power-off CMD --power-on CMD] [--lock-wait SECONDS] [--forks N]
                              [--history FILE|none]   (each drill appended; the audit's trends and drill gauges read it)
  load through every VIP from the client (h2load, --rate 200 requests/s, each failed after --timeout 1 s) while a
  fault hits the VIP holder; measures the VIP move, the time until requests succeed again, failed/total, p50/p99;
  restores the node and verifies. Scenarios come from the inventory's kinds: --scenario list names each with
  what it does and whether it runs by default. power-off runs your commands on this machine ({host}, {address})`,
  preflight: `Usage: lbdeploy preflight INVENTORY [--listen 3] [--forks N] [--json]   (exit 1 on a problem)
  per VRRP cluster: each node listens --listen seconds for IP protocol 112 while every node sends its peers a
  marked probe: a pair that cannot hear each other, and a foreign router already advertising a VRID of the
  cluster, are errors naming the hosts and the VRID. Needs socat on the nodes. up runs it before it changes
  keepalived (--no-preflight skips it)`,
  drain: `Usage: lbdeploy drain INVENTORY HOST [--wait 60] [--json]
  lowers HOST's VRRP priority to the floor (no reload), waits until another node holds each VIP and serves
  through it; HOST stays drained (a later up keeps it so) until undrain`,
  undrain: `Usage: lbdeploy undrain INVENTORY HOST [--wait 60] [--json]
  puts HOST's VRRP priority back and waits until every VIP has exactly one holder`,
  unlock: `Usage: lbdeploy unlock INVENTORY HOST[,HOST...]
  frees a run lock that outlived its run (a run lock is released when its run ends or its connection drops;
  one whose run is gone, e.g. after a network cut, stays): ends the holder's process on the host. If that run
  is in fact still going, it then changes the host without a lock: a warning says so`,
  manifest: `Usage: lbdeploy manifest INVENTORY
  prints the Kubernetes Service with the VIP as externalIP (ipvs-dr); apply it with: | kubectl apply -f -`,
  audit: `Usage: lbdeploy audit INVENTORY [--format table|json|junit|prometheus] [--output FILE] [--html FILE]
                      [--warn-days 30] [--crit-days 7] [--host-timeout 10] [--no-drift] [--history FILE|none] [--forks N]
       lbdeploy audit INVENTORY --install-timer [--every 15m] [--textfile-dir DIR] [--unit-dir DIR]
       lbdeploy audit INVENTORY --print-schedule [--every 15m] [--image REF]   (REF default lbdeploy:VERSION)
       lbdeploy audit INVENTORY --serve ADDRESS:PORT [--interval 60]   (Prometheus exporter: /metrics, /healthz)
  read-only on the hosts; exit 0 healthy, 1 warning, 2 critical
  each audit is appended to the inventory's history (JSON lines in $XDG_STATE_HOME/lbdeploy/history/, else
  ~/.local/state/lbdeploy/history/, as root /var/lib/lbdeploy/history/): the report's trends and drill gauges read it`,
  init: `Usage: lbdeploy init KIND [DIR] [--lb NAME=ADDR,...] [--backends NAME=ADDR,...] [--client NAME=ADDR]
                   [--vip ADDR/PREFIX] [--interface IF] [--vrid N] [--user root]
                   [--private-key FILE] [--known-hosts FILE] [--force]
  writes DIR/inventory.yaml (commented, with the schema modeline for editors) and DIR/playbooks/site.ts
  (a playbook of your own); KIND: a bundled kind with a starting inventory. Without --lb/--backends/--vip:
  documentation addresses (192.0.2.0/24) to replace`,
  schema: `Usage: lbdeploy schema
  prints the JSON Schema of inventories, with the bundled kinds' vars (for editors and CI checks)`,
  image: `Usage: lbdeploy image build [--tag lbdeploy:VERSION] [--save FILE.tar]
  builds lbdeploy's OCI image offline (Debian base, this node, the package and its dependencies), tagged
  with the version, for the audit CronJob (--print-schedule --image REF); --save writes a docker save archive`,
  lab: `Usage: lbdeploy lab <up|down|status|renew-certs> [--json]

  up           install what the lab needs, build images (cached), start the hosts
               --vms: also the VM tier (lbvm1, lbvm2: qemu, Debian's kernel, real IPVS)
               --scale N: also N light LB hosts (2-100, even) in clusters of two, each its own
               VIP and VRID, on 198.18.4.0/22; writes .lbdeploy/lab/scale.yaml (the fleet's inventory)
  down         remove every lab container and network (images stay cached)
  status       each host, its address, and whether SSH answers
  renew-certs  re-issue the masters' admin client certificate [--expired | --expires-in DAYS]`,
};
