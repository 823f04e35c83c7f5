// The node's CNI configuration, as a real node keeps it (/etc/cni/net.d, /opt/cni/bin), made from the plan.
// The runtime side (node/bin/podnet-cni) reads the first *.conflist of CNI_CONF_DIR and finds plugins in CNI_BIN_DIR.
// The paths are plan/node-contract.ts's (re-exported here, where they were first declared).
import { IPAM_DATA_DIR } from "./node-contract";
export { CNI_BIN_DIR, CNI_CONF_DIR, CNI_CONFLIST, IPAM_DATA_DIR } from "./node-contract";

/** `podnet`: the lab's own plugin (node/cni/podnet). `bridge`: the CNI project's reference plugin on the same subnets. */
export type CniPlugin = "podnet" | "bridge";
export const CNI_PLUGINS: readonly CniPlugin[] = ["podnet", "bridge"];
/** The CNI spec version the configuration and the lab's plugin speak. */
export const CNI_VERSION = "1.0.0";
/** The network's name: host-local keeps its addresses under IPAM_DATA_DIR/<name>; the runtime caches each result in CNI_CACHE_DIR/<name>-<sandbox id>-eth0. */
export const CNI_NETWORK = "podnet";

export interface CniPluginConf { readonly type: string; readonly [key: string]: unknown; }
export interface CniConfList {
    readonly cniVersion: string;
    readonly name: string;
    readonly plugins: readonly CniPluginConf[];
}

/** What a node's conflist is made from: its bridge, pod subnet, gateway (the bridge's address) and pod MTU. */
export interface CniNodeInputs { readonly bridge: string; readonly podCidr: string; readonly gateway: string; readonly mtu: number; }

/**
 * One node's network configuration list: the chosen plugin wires the pod to the node's bridge and delegates its
 * address to host-local (the node's subnet), then the standard `portmap` plugin is chained, as on most clusters
 * (here it passes the result on: the lab's pods declare no hostPort, so the runtime hands it no portMappings).
 * The reference `bridge` plugin gets the same subnet and gateway, and no masquerade of its own (the lab's rule
 * keeps pod-to-pod traffic un-NATed). Both put each pod's bridge port in hairpin mode (`hairpinMode`), as kubelet's
 * default asks: a pod that reaches its own Service and is chosen by kube-proxy gets its packet back on that port.
 */
export function cniConfList(plugin: CniPlugin, n: CniNodeInputs): CniConfList {
    const ipam = { type: "host-local", ranges: [[{ subnet: n.podCidr, gateway: n.gateway }]], dataDir: IPAM_DATA_DIR };
    const main: CniPluginConf = plugin === "podnet"
        ? { type: "podnet", bridge: n.bridge, mtu: n.mtu, hairpinMode: true, ipam }
        : { type: "bridge", bridge: n.bridge, isDefaultGateway: true, ipMasq: false, hairpinMode: true, mtu: n.mtu, ipam };
    return { cniVersion: CNI_VERSION, name: CNI_NETWORK, plugins: [main, { type: "portmap", capabilities: { portMappings: true } }] };
}

/** The conflist as written on the node (and shown by `pulumi preview`): indented JSON. */
export function conflistText(list: CniConfList): string {
    return JSON.stringify(list, null, 2) + "\n";
}
