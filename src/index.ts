/**
 * lbdeploy's public API: what playbooks import: definePlaybook, the operations, shell quoting,
 * the renderers, kubeconfig and certificate readers, and the helpers for rolling and draining.
 * The kinds' own models and checks are internal (src/kinds/); a kind's playbook is reachable by name.
 * @packageDocumentation
 */
export { definePlaybook } from './playbook/define.js';
export type { Playbook, Play, HostContext, HostInfo } from './playbook/define.js';
export { file, directory } from './operations/file.js';
export type { FileOptions, DirectoryOptions } from './operations/file.js';
export { packages } from './operations/package.js';
export type { PackageOptions } from './operations/package.js';
export { service } from './operations/service.js';
export type { ServiceOptions } from './operations/service.js';
export { sysctl, kernelModules } from './operations/kernel.js';
export type { SysctlOptions, ModulesOptions } from './operations/kernel.js';
export { command, waitFor, reboot } from './operations/command.js';
export type { CommandOptions, WaitForOptions, RebootOptions } from './operations/command.js';
export type { Operation, StepOptions } from './operations/types.js';
export { sh, raw, quote, join } from './connection/shell.js';
export { Secret, isSecret, revealText } from './inventory/secret.js';
export { shippedFile } from './files.js';
export type { Validate } from './operations/file.js';
export { renderKeepalived } from './render/keepalived.js';
export type { KeepalivedConfig, VrrpInstance, VrrpScript } from './render/keepalived.js';
export { renderHaproxy } from './render/haproxy.js';
export type { HaproxyConfig, HaproxyListen, HaproxyServer, SendProxy } from './render/haproxy.js';
export { renderNginxProxyProtocol, nginxSnippetValidate } from './render/nginx.js';
export type { PlaybookIssue } from './playbook/define.js';
export { readKubeconfig, withServer, decodeData } from './kube/kubeconfig.js';
export type { KubeconfigInfo } from './kube/kubeconfig.js';
export { certInfo } from './kube/cert.js';
export type { CertInfo } from './kube/cert.js';
export type { PrepareContext, PrepareResult } from './playbook/define.js';
export { holdsAddress } from './checks/vip.js';
export { ipvsServices, address, addressUnit, DEBIAN_IPVSADM_DEFAULTS } from './operations/ipvs.js';
export { onFamily, platformNotes } from './operations/platform.js';
export { PLATFORM_FACT, parsePlatform, packagesFor, IPVSADM_PERSISTENCE, type Family, type Platform } from './operations/os-family.js';
export type { IpvsOptions, AddressOptions } from './operations/ipvs.js';
export { parseIpvsadmSave, parseIpvsadmList, diffIpvs, renderIpvsRules } from './render/ipvs.js';
export type { VirtualService, RealServer, Forward } from './render/ipvs.js';
export { drRealServerSteps } from './lb-blocks/dr-real-servers.js';
export { container, containerImage, containerSignal, CONFIG_HASH_LABEL } from './operations/container.js';
export type { ContainerOptions, ImageOptions, ImageArchive } from './operations/container.js';
export { readImageArchive } from './operations/image-archive.js';
export { drainWith, holderLast } from './lb-blocks/rolling.js';
export { haproxyKeepalivedDrain } from './kinds/haproxy-keepalived/playbook.js';
/** A bundled kind's playbook by name, to run it from a playbook file of your own (playbooks/ does). */
export { kindPlaybook } from './kinds/registry.js';
export type { Check, Severity } from './checks/check.js';

