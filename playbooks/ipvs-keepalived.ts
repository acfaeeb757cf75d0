/** The ipvs-keepalived deployment kind's playbook (src/kinds/ipvs-keepalived/), by path for those who name playbooks by file. */
import { kindPlaybook } from '../src/index.js';

export default kindPlaybook('ipvs-keepalived');
