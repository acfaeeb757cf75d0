/** The kubeconfig deployment kind's playbook (src/kinds/kubeconfig/), by path for those who name playbooks by file. */
import { kindPlaybook } from '../src/index.js';

export default kindPlaybook('kubeconfig');
