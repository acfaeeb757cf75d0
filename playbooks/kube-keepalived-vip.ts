/** The kube-keepalived-vip deployment kind's playbook (src/kinds/kube-keepalived-vip/), by path for those who name playbooks by file. */
import { kindPlaybook } from '../src/index.js';

export default kindPlaybook('kube-keepalived-vip');
