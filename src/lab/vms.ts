/**
 * The lab's VM tier: qemu with software emulation (KVM does not work here) booting Debian's
 * kernel from a root file system built like the container images, on the lab network through a
 * tap device on the lab bridge. SSH answers about 20 s after start.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from '../shell-local.js';
import { LabError } from '../errors.js';
import { baseTarball, debianMirror, withBuildRoot, writeFiles } from '../image/rootfs.js';
import { APT_PROXY_URL } from './apt-proxy.js';
import { recipeFor } from './recipes.js';
import type { LabPaths } from './paths.js';
import { livePid, stopPidFile, type Log } from './system.js';
import { LAB_NETWORK, LAB_SUDO_USER, type LabHost } from './topology.js';

/** What the VM root file system adds to the common base: a kernel that boots, udev, networking. */
const VM_PACKAGES = ['linux-image-amd64', 'udev', 'ifupdown', 'kmod'];
/** Masked for containers by the base recipe; a VM needs them (modules-load.d, udev, a console). */
const VM_UNMASK = ['systemd-modules-load.service', 'systemd-udevd.service', 'systemd-udev-trigger.service', 'systemd-remount-fs.service', 'getty@tty1.service', 'serial-getty@ttyS0.service', 'console-getty.service'];
const VM_BUILD_VERSION = 1;

export interface VmImage {
  rootfs: string;
  kernel: string;
  initrd: string;
}

function vmHash(): string {
  const base = recipeFor('client');
  return createHash('sha256').update(JSON.stringify({ v: VM_BUILD_VERSION, base: base.basePackages, files: base.files, setup: base.setup, VM_PACKAGES, VM_UNMASK })).digest('hex').slice(0, 16);
}

/** The VM root file system (tarball), kernel and initrd, built once per recipe. */
export async function ensureVmImage(buildDir: string, log: Log): Promise<VmImage> {
  const dir = join(buildDir, `vm-${vmHash()}`);
  const image = { rootfs: join(dir, 'rootfs.tar'), kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img') };
  if (existsSync(image.rootfs) && existsSync(image.kernel) && existsSync(image.initrd)) return image;
  const started = Date.now();
  log('building the VM image (kernel, udev, networking; about a minute)');
  const base = await baseTarball(recipeFor('client'), buildDir, log);
  try {
    await withBuildRoot(buildDir, 'vmroot', base, async (root, chroot) => {
      const recipe = recipeFor('client');
      writeFiles(root, recipe.files);
      await chroot([
        `echo 'deb ${debianMirror()} bookworm main' > /etc/apt/sources.list`,
        `apt-get update -qq && apt-get install -y -qq --no-install-recommends ${VM_PACKAGES.join(' ')} >/dev/null`,
        ...recipe.setup,
        'systemctl enable ssh.service >/dev/null 2>&1',
        ...VM_UNMASK.map((u) => `systemctl unmask ${u} >/dev/null 2>&1 || true`),
        "echo '/dev/vda / ext4 defaults 0 1' > /etc/fstab",
        'apt-get clean', 'rm -rf /var/lib/apt/lists/*',
      ].join('\n'));
    }, async (root) => {
      mkdirSync(dir, { recursive: true });
      const boot = readdirSync(join(root, 'boot'));
      const kernel = boot.find((f) => f.startsWith('vmlinuz-'));
      const initrd = boot.find((f) => f.startsWith('initrd.img-'));
      if (!kernel || !initrd) throw new LabError('the VM image has no kernel or initrd in /boot');
      copyFileSync(join(root, 'boot', kernel), image.kernel);
      copyFileSync(join(root, 'boot', initrd), image.initrd);
      await $`tar -C ${root} -cf ${image.rootfs + '.part'} .`.quiet();
      renameSync(image.rootfs + '.part', image.rootfs);
    });
    log(`built the VM image in ${Math.round((Date.now() - started) / 1000)} s`);
    return image;
  } catch (e) {
    if (e instanceof LabError) throw e;
    const err = e as { stderr?: string; message: string };
    throw new LabError(`building the VM image failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-6).join('\n')}`, { hint: 'check that the Debian mirror is reachable; `lab up --vms` can be repeated' });
  }
}

const tapName = (h: LabHost) => `lbd-${h.name}`.slice(0, 15);
const pidFile = (paths: LabPaths, h: LabHost) => join(paths.vms, `${h.name}.pid`);

export function vmPid(paths: LabPaths, h: LabHost): number | undefined {
  return livePid(pidFile(paths, h));
}

async function labBridge(): Promise<string> {
  const id = (await $`docker network inspect ${LAB_NETWORK.name} --format {{.Id}}`.quiet()).stdout.trim();
  return `br-${id.slice(0, 12)}`;
}

/**
 * Start one VM (its disk made afresh from the image, with its address, name, host key and the lab's
 * authorized key), unless it already runs.
 */
export async function ensureVm(paths: LabPaths, h: LabHost, image: VmImage, hostKey: string, clientPub: string, log: Log): Promise<'running' | 'started'> {
  if (vmPid(paths, h)) return 'running';
  if (!existsSync('/dev/net/tun')) throw new LabError('/dev/net/tun is missing: the VMs cannot join the lab network', { hint: 'load the tun module on this machine' });
  mkdirSync(paths.vms, { recursive: true, mode: 0o700 });
  const root = join(paths.vms, `${h.name}-root`);
  const disk = join(paths.vms, `${h.name}.img`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root);
  try {
    await $`tar -C ${root} -xf ${image.rootfs}`.quiet();
    writeFileSync(join(root, 'etc/hostname'), `${h.name}\n`);
    writeFileSync(join(root, 'etc/hosts'), `127.0.0.1 localhost\n::1 localhost\n${h.address} ${h.name}\n${h.address6} ${h.name}\n`);
    writeFileSync(join(root, 'etc/network/interfaces'),
      `auto lo\niface lo inet loopback\n\nauto ens3\niface ens3 inet static\n    address ${h.address}/24\n    gateway ${LAB_NETWORK.gateway}\n` +
      // IPv6 on the lab's /64 only: no gateway, and no addresses from router advertisements.
      `\niface ens3 inet6 static\n    address ${h.address6}/${LAB_NETWORK.subnet6.split('/')[1]}\n    autoconf 0\n    accept_ra 0\n    dad-attempts 0\n`);
    // No resolver: the VMs send no traffic outside the lab network (this machine's resolver is not
    // in it); apt goes through the lab's proxy on the gateway.
    writeFileSync(join(root, 'etc/resolv.conf'), '');
    writeFileSync(join(root, 'etc/apt/apt.conf.d/01lbdeploy-lab-proxy'), `Acquire::http::Proxy "${APT_PROXY_URL}";\n`);
    writeFileSync(join(root, 'etc/ssh/ssh_host_ed25519_key'), readFileSync(hostKey), { mode: 0o600 });
    writeFileSync(join(root, 'etc/ssh/ssh_host_ed25519_key.pub'), readFileSync(hostKey + '.pub'));
    writeFileSync(join(root, 'root/.ssh/authorized_keys'), clientPub, { mode: 0o600 });
    writeFileSync(join(root, `home/${LAB_SUDO_USER}/.ssh/authorized_keys`), clientPub, { mode: 0o644 });
    rmSync(disk, { force: true });
    await $`mkfs.ext4 -q -F -d ${root} ${disk} 3G`.quiet();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const tap = tapName(h);
  await $`ip link del ${tap}`.nothrow().quiet();
  await $`ip tuntap add ${tap} mode tap`.quiet();
  await $`ip link set ${tap} master ${await labBridge()}`.quiet();
  await $`ip link set ${tap} up`.quiet();
  const mac = `52:54:00:12:00:${h.address.split('.')[3]!.padStart(2, '0').slice(-2)}`;
  const qemu = [
    '-name', h.name, '-accel', 'tcg,thread=multi', '-m', '1024', '-smp', '2',
    '-kernel', image.kernel, '-initrd', image.initrd, '-append', 'root=/dev/vda rw console=ttyS0 net.ifnames=1',
    '-drive', `file=${disk},if=virtio,format=raw`,
    '-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n0,mac=${mac}`,
    '-display', 'none', '-serial', `file:${join(paths.vms, `${h.name}.console.log`)}`, '-daemonize', '-pidfile', pidFile(paths, h),
  ];
  await $`qemu-system-x86_64 ${qemu}`.quiet();
  log(`${h.name} ${h.address}: VM started (software emulation; SSH in about 20-40 s)`);
  return 'started';
}

/** Stop every lab VM this state folder started and remove its tap device and disk. */
export async function stopVms(paths: LabPaths, vms: readonly LabHost[], log: Log): Promise<void> {
  for (const h of vms) {
    await stopPidFile(pidFile(paths, h), `VM ${h.name}`, 10_000, log);
    await $`ip link del ${tapName(h)}`.nothrow().quiet();
    rmSync(join(paths.vms, `${h.name}.img`), { force: true });
  }
}
