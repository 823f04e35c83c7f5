// The names the program shares with the node scripts (node/bin/*, node/cni/podnet), declared once on the program's
// side: paths inside a node, iptables chains, container labels, the environment the node container gets, and each
// node script with its arguments, as functions that build the argv. The node side declares the same paths, chains
// and labels once, in node/bin/podnet-lib, and reads the arguments in each script. tests/node-contract.test.ts runs
// the scripts with the argv built here (through plan/commands.ts) and checks that both sides agree.
// Plain values only (no @pulumi imports), like the rest of plan/.

// --- Paths inside a node ------------------------------------------------------------------------------------------
/** Where the node init installs node/bin/* (on every node's PATH). */
export const NODE_BIN_DIR = "/usr/local/bin";
/** Where a node keeps its CNI plugins: the lab's own (node/cni/*) and the standard ones. */
export const CNI_BIN_DIR = "/opt/cni/bin";
/** The node's CNI configuration; the runtime (podnet-cni, containerd) takes the first *.conflist. */
export const CNI_CONF_DIR = "/etc/cni/net.d";
export const CNI_CONFLIST = `${CNI_CONF_DIR}/10-podnet.conflist`;
/** CNI's state on a node, a volume of its own (so a pod keeps its address across restarts). */
export const CNI_DIR = "/var/lib/cni";
/** host-local's records: one file per address, named by the IP, holding the sandbox's id. */
export const IPAM_DATA_DIR = `${CNI_DIR}/networks`;
/** libcni's cache of each ADD: <network>-<sandbox id>-eth0, written by podnet-cni (docker mode) or containerd. */
export const CNI_CACHE_DIR = `${CNI_DIR}/results`;
/** Every CNI plugin call on the node, one JSON line each (`podnet-cni LAST` reads it). */
export const CNI_LOG = "/var/log/podnet-cni.log";
/** The lab's own records on a node (bridge, routes, pods, the agent's pause), written and read by podnet-lib. */
export const NODE_STATE_DIR = "/var/lib/podnet";
/** Where a standalone kubelet reads its static pods (--pod-manifest-path). */
export const STATIC_POD_DIR = "/etc/kubernetes/manifests";

/** The node container's anonymous volumes: kept across its restarts, removed with it. */
export const NODE_VOLUMES = {
    /** The inner dockerd's images and containers. */
    docker: "/var/lib/docker",
    /** CNI_DIR: the IPAM records and the CNI cache. */
    cni: CNI_DIR,
} as const;
/** Kubelet mode: containerd's and kubelet's state (containerd's overlayfs snapshots cannot sit on the node's overlay root). */
export const KUBELET_NODE_VOLUMES = { containerd: "/var/lib/containerd", kubelet: "/var/lib/kubelet" } as const;

/** The environment the program sets on a node container, which the node scripts read. */
export const NODE_ENV = {
    /** Who builds the pods on the node: docker (unset) or kubelet. */
    podRuntime: "PODNET_POD_RUNTIME",
    /** Kubelet mode: the pause image containerd starts each sandbox from. */
    sandboxImage: "PODNET_SANDBOX_IMAGE",
} as const;

// --- iptables and labels ------------------------------------------------------------------------------------------
/** The chains `podnet-bridge add` makes: forwarding for the cluster range, and the masquerade of what leaves it. */
export const CHAINS = { forward: "PODNET-FORWARD", masquerade: "PODNET-MASQ" } as const;
/** The rule of the masquerade chain that NATs what leaves the cluster (after its RETURN for the cluster range). */
export const MASQUERADE_RULE = { table: "nat", chain: CHAINS.masquerade, spec: ["-j", "MASQUERADE"] } as const;

/** The labels on every container of a pod, kubelet's: the lab's `docker run` sets them, and kubelet's CRI does. */
export const POD_LABELS = { pod: "io.kubernetes.pod.name", container: "io.kubernetes.container.name", namespace: "io.kubernetes.pod.namespace" } as const;
/** The container name label's value on a pod's sandbox (pause) container. */
export const SANDBOX_CONTAINER = "POD";
/** The labels of one container of a pod (container: SANDBOX_CONTAINER for the sandbox). */
export function podLabels(pod: string, container: string): Record<string, string> {
    return { [POD_LABELS.pod]: pod, [POD_LABELS.container]: container };
}

// --- The node scripts and their arguments -------------------------------------------------------------------------
/** Each node script's name (a file of node/bin, on the node's PATH). */
export const NODE_SCRIPTS = {
    ready: "podnet-node-ready",
    bridge: "podnet-bridge",
    route: "podnet-route",
    vxlan: "podnet-vxlan",
    cni: "podnet-cni",
    kubelet: "podnet-kubelet",
    controlPlane: "podnet-control-plane",
    agent: "podnet-node-agent",
    entrypoint: "podnet-node-entrypoint",
} as const;

export type AddDel = "add" | "del";

/** `podnet-node-ready SECONDS`: waits until the node's inner dockerd answers. */
export function nodeReadyArgv(seconds: number): string[] { return [NODE_SCRIPTS.ready, String(seconds)]; }

export interface BridgeArgs {
    readonly bridge: string; readonly bridgeCidr: string; readonly bridgeMac: string; readonly podCidr: string; readonly clusterCidr: string;
}
/** `podnet-bridge add|del BRIDGE BRIDGE_CIDR BRIDGE_MAC POD_CIDR CLUSTER_CIDR`. */
export function bridgeArgv(verb: AddDel, b: BridgeArgs): string[] {
    return [NODE_SCRIPTS.bridge, verb, b.bridge, b.bridgeCidr, b.bridgeMac, b.podCidr, b.clusterCidr];
}

/** `podnet-route add|del POD_CIDR via LAN_IP`. */
export function routeArgv(verb: AddDel, r: { readonly to: string; readonly via: string }): string[] {
    return [NODE_SCRIPTS.route, verb, r.to, "via", r.via];
}

/**
 * A node's routes as one table (`podnet-route set`, the table on its stdin, one route a line as `ip route` prints it:
 * "10.244.2.0/24 via 192.168.1.12"); `podnet-route clear` removes them. The lab declares the table as one resource per
 * node, so a preview's diff of its stdin names each route added or removed.
 */
export const routeTableArgv = (verb: "set" | "clear"): string[] => [NODE_SCRIPTS.route, verb];
export const routeTableLine = (r: { readonly to: string; readonly via: string }): string => `${r.to} via ${r.via}`;
/** The text `podnet-route set` reads: one line per route, each ending in a newline (empty for no route). */
export const routeTableText = (routes: readonly { readonly to: string; readonly via: string }[]): string => routes.map((r) => `${routeTableLine(r)}\n`).join("");

export interface VxlanArgs {
    readonly device: string; readonly vni: number; readonly port: number; readonly localIp: string;
    readonly vtepIp: string; readonly mac: string; readonly mtu: number;
}
/** `podnet-vxlan add|del DEV VNI PORT LOCAL_LAN_IP VTEP_IP MAC MTU`. */
export function vxlanArgv(verb: AddDel, v: VxlanArgs): string[] {
    return [NODE_SCRIPTS.vxlan, verb, v.device, String(v.vni), String(v.port), v.localIp, v.vtepIp, v.mac, String(v.mtu)];
}

export interface VxlanPeerArgs { readonly device: string; readonly to: string; readonly vtepIp: string; readonly mac: string; readonly lanIp: string; }
/** `podnet-vxlan peer add|del DEV POD_CIDR VTEP_IP MAC LAN_IP`. */
export function vxlanPeerArgv(verb: AddDel, p: VxlanPeerArgs): string[] {
    return [NODE_SCRIPTS.vxlan, "peer", verb, p.device, p.to, p.vtepIp, p.mac, p.lanIp];
}

/**
 * A node's overlay peers as one table (`podnet-vxlan peers set DEV`, one peer a line: its route, its VTEP's MAC (the
 * neighbour) and the LAN IP behind that MAC (the FDB entry), in `ip`'s and `bridge`'s words:
 * "10.244.2.0/24 via 10.244.2.0 lladdr 0a:58:0a:f4:02:00 dst 192.168.1.12"); `peers clear DEV` removes them.
 */
export const vxlanPeersArgv = (verb: "set" | "clear", device: string): string[] => [NODE_SCRIPTS.vxlan, "peers", verb, device];
type PeerLine = Omit<VxlanPeerArgs, "device">;
export const vxlanPeerLine = (p: PeerLine): string => `${p.to} via ${p.vtepIp} lladdr ${p.mac} dst ${p.lanIp}`;
export const vxlanPeersText = (peers: readonly PeerLine[]): string => peers.map((p) => `${vxlanPeerLine(p)}\n`).join("");

/** `podnet-cni VERB ...`: the runtime's side of CNI. */
export const cniArgv = {
    /** Names the sandbox's namespace POD and runs the node's CNI configuration's ADD; prints the result. */
    add: (pod: string, sandboxId: string) => [NODE_SCRIPTS.cni, "ADD", pod, sandboxId],
    del: (pod: string, sandboxId: string) => [NODE_SCRIPTS.cni, "DEL", pod, sandboxId],
    check: (pod: string) => [NODE_SCRIPTS.cni, "CHECK", pod],
    /** Installs the conflist read on stdin as CNI_CONFLIST. */
    config: () => [NODE_SCRIPTS.cni, "CONFIG"],
    /** Removes CNI_CONFLIST if it still holds the conflist read on stdin. */
    unconfig: () => [NODE_SCRIPTS.cni, "UNCONFIG"],
    /** The pod's last ADD, plugin by plugin, from CNI_LOG (JSON lines). */
    last: (pod: string) => [NODE_SCRIPTS.cni, "LAST", pod],
    /** The "before" state: names the namespace and prints Docker's address in the CNI result's shape. */
    docker0: (pod: string, sandboxId: string) => [NODE_SCRIPTS.cni, "DOCKER0", pod, sandboxId],
    unname: (pod: string) => [NODE_SCRIPTS.cni, "UNNAME", pod],
};

/** `podnet-kubelet VERB ...` (kubelet mode). POD is the manifest's name, NODE the node's (kubelet names the pod POD-NODE). */
export const kubeletArgv = {
    ready: (seconds: number) => [NODE_SCRIPTS.kubelet, "ready", String(seconds)],
    /** stdin: `docker save` of the images; NAMES as containerd keeps them. */
    images: (names: readonly string[]) => [NODE_SCRIPTS.kubelet, "images", ...names],
    /** stdin: the manifest -> STATIC_POD_DIR/POD.yaml; prints the pod's CNI result once containerd ran its ADD. */
    podAdd: (pod: string, node: string) => [NODE_SCRIPTS.kubelet, "pod", "add", pod, node],
    podDel: (pod: string, node: string) => [NODE_SCRIPTS.kubelet, "pod", "del", pod, node],
    /** The pod's running containers, one line each: NAME ID PID (NAME is SANDBOX_CONTAINER for the sandbox). */
    containers: (pod: string, node: string) => [NODE_SCRIPTS.kubelet, "containers", pod, node],
    exec: (pod: string, node: string, container: string, cmd: readonly string[]) => [NODE_SCRIPTS.kubelet, "exec", pod, node, container, ...cmd],
    logs: (pod: string, node: string, container: string) => [NODE_SCRIPTS.kubelet, "logs", pod, node, container],
};

/** Cluster mode, a node's side of its join: `podnet-kubelet csr|join ...`. */
export const joinArgv = {
    /**
     * Makes the kubelet's and kube-proxy's keys once; prints their certificate requests (CN=system:node:NODE,
     * O=system:nodes; then CN=system:kube-proxy, O=system:node-proxier).
     */
    csr: (node: string) => [NODE_SCRIPTS.kubelet, "csr", node],
    /**
     * stdin: the kubelet's signed certificate, the CA's, then kube-proxy's; writes their kubeconfigs for SERVER and
     * kube-proxy's configuration (its cluster range, NodePorts on the LAN's range); kubelet tells its pods to ask
     * the cluster DNS (CLUSTER_DNS, the domain CLUSTER_DOMAIN).
     */
    join: (node: string, nodeIp: string, server: string, clusterCidr: string, lanCidr: string, clusterDns: string, clusterDomain: string) =>
        [NODE_SCRIPTS.kubelet, "join", node, nodeIp, server, clusterCidr, lanCidr, clusterDns, clusterDomain],
};

/** Cluster mode: `podnet-control-plane VERB ...`, in the control plane container. */
export const controlPlaneArgv = {
    ready: (seconds: number) => [NODE_SCRIPTS.controlPlane, "ready", String(seconds)],
    kubeconfig: (server: string) => [NODE_SCRIPTS.controlPlane, "kubeconfig", server],
    /** stdin: NODE's certificate request; declares its Node with POD_CIDR, prints the signed certificate and the CA's. */
    sign: (node: string, podCidr: string) => [NODE_SCRIPTS.controlPlane, "sign", node, podCidr],
    waitNode: (node: string, seconds: number) => [NODE_SCRIPTS.controlPlane, "wait-node", node, String(seconds)],
    /** The API server's Nodes are NODES: any other is deleted. */
    nodes: (nodes: readonly string[]) => [NODE_SCRIPTS.controlPlane, "nodes", ...nodes],
};
/** Cluster mode: the control plane container's environment, which podnet-control-plane and the entrypoint read. */
export const CONTROL_PLANE_ENV = { role: "PODNET_ROLE", advertiseIp: "PODNET_ADVERTISE_IP", serviceCidr: "PODNET_SERVICE_CIDR" } as const;
/** The role that makes a container of the node image the control plane (the entrypoint runs podnet-control-plane). */
export const CONTROL_PLANE_ROLE = "control-plane";
/** Cluster mode: the control plane's anonymous volumes, etcd's data and /etc/kubernetes (the PKI, the components' kubeconfigs). */
export const CONTROL_PLANE_VOLUMES = { etcd: "/var/lib/etcd", kubernetes: "/etc/kubernetes" } as const;

/** `podnet-node-agent VERB ...`. */
export const agentArgv = {
    pause: (why: string) => [NODE_SCRIPTS.agent, "pause", why],
    resume: () => [NODE_SCRIPTS.agent, "resume"],
    status: () => [NODE_SCRIPTS.agent, "status"],
    once: () => [NODE_SCRIPTS.agent, "once"],
};
