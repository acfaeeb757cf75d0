/** The haproxy-keepalived deployment kind's playbook (src/kinds/haproxy-keepalived/), by path for those who name playbooks by file. */
import { kindPlaybook } from '../src/index.js';

export default kindPlaybook('haproxy-keepalived');
