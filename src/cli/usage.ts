/** Usage texts, kept apart so `--help` loads no command's modules. */
export const USAGES = {
  up: `Usage: lbdeploy up INVENTORY [--playbook NAME|FILE] [--check] [--diff] [--limit PATTERN]
                   [--tags T1,T2] [--skip-tags T] [--forks N] [--allow-reboot] [--json]
       lbdeploy plan INVENTORY [...]   (= up --check --diff)`,
  hosts: 'Usage: lbdeploy hosts INVENTORY [--limit PATTERN] [--json]',
  facts: 'Usage: lbdeploy facts INVENTORY [--limit PATTERN] [--forks N] [--json]',
  lab: `Usage: lbdeploy lab <up|down|status> [--json]

  up      install what the lab needs, build images (cached), start the hosts
  down    remove every lab container and network (images stay cached)
  status  each host, its address, and whether SSH answers`,
};
