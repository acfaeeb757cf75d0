/** Usage texts, kept apart so `--help` loads no command's modules. */
export const USAGES = {
  up: `Usage: lbdeploy up INVENTORY [--playbook NAME|FILE] [--check] [--diff] [--limit PATTERN]
                   [--tags T1,T2] [--skip-tags T] [--forks N] [--allow-reboot] [--json]
                   [--wait SECONDS | --no-wait]   (default: wait up to 120 s until it serves)
                   [--lock-wait SECONDS]   (default 0: refuse a host another run holds; plan takes no lock)
                   [--serial N|P% [--max-fail N]]   (rolling: N clusters (or P% of them) a batch, backups before
                   the VIP holder, a health gate through the VIPs after each batch; a failed batch stops it)
       lbdeploy plan INVENTORY [...]   (= up --check --diff)`,
  hosts: 'Usage: lbdeploy hosts INVENTORY [--limit PATTERN] [--json]',
  facts: 'Usage: lbdeploy facts INVENTORY [--limit PATTERN] [--forks N] [--json]',
  verify: `Usage: lbdeploy verify INVENTORY [--json] [--host-timeout 15]   (exit 1 unless every check is ok)
  VIP on exactly one node, haproxy backends or \`ipvsadm -ln\` against the inventory, curl through each VIP`,
  failover: `Usage: lbdeploy failover-test INVENTORY [--scenario NAME|all] [--max-move SECONDS] [--rate N] [--json] [--lock-wait SECONDS]
                              [--history FILE|none]   (each drill appended; the audit's trends and drill gauges read it)
  scenarios come from the inventory's kinds: keepalived, haproxy (haproxy-keepalived), keepalived-container (ipvs-keepalived)
  stops keepalived (and, separately, haproxy; or seed 002's keepalived container) on the VIP holder,
  measures the move, restores, verifies`,
  manifest: `Usage: lbdeploy manifest INVENTORY
  prints the Kubernetes Service with the VIP as externalIP (seed 003); apply it with: | kubectl apply -f -`,
  audit: `Usage: lbdeploy audit INVENTORY [--format table|json|junit|prometheus] [--output FILE] [--html FILE]
                      [--warn-days 30] [--crit-days 7] [--host-timeout 10] [--no-drift] [--history FILE|none]
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
  (a playbook of your own); kinds: haproxy-keepalived, ipvs-dr. Without --lb/--backends/--vip:
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
