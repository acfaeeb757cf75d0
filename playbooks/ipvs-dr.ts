/** The ipvs-dr deployment kind's playbook (src/kinds/ipvs-dr/), by path for those who name playbooks by file. */
import { kindPlaybook } from '../src/index.js';

export default kindPlaybook('ipvs-dr');
