/** Whether this machine lets the suite make cgroups (cgroup v2 mounted and writable as we are). */
import { execFileSync } from 'node:child_process';
import { cgroupRoot } from '../../src/cgroup.js';

/** True when a cgroup can be made and removed at the hierarchy's root (probed once). */
export const cgroupWritable: boolean = (() => {
  const root = cgroupRoot();
  if (root === null) return false;
  try {
    execFileSync('sh', ['-c', `mkdir ${root}/sigkit-probe-$$ && rmdir ${root}/sigkit-probe-$$`]);
    return true;
  } catch {
    return false;
  }
})();
