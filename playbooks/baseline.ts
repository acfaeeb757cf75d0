/** The baseline deployment kind's playbook (src/kinds/baseline/), by path for those who name playbooks by file. */
import { kindPlaybook } from '../src/index.js';

export default kindPlaybook('baseline');
