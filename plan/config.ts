// The lab's configuration: every key, its default and its meaning, and the pure function that validates it.
import { CNI_PLUGINS, CniPlugin } from "./cni";
import { Problems } from "./errors";
import { isImageRef } from "./image-ref";
import { Cidr, contains, formatCidr, hasHostBits, ipToNumber, networkOf, numberToIp, overlaps, parseCidr, size } from "./ip";
import { isPodRuntime, POD_RUNTIME_CHOICES, POD_RUNTIME_DESCRIPTION, PodRuntime, RUNTIMES } from "./runtimes";

export type NodeSecurity = "privileged" | "capabilities";
/**
 * `lab`: the model, routed (seed 004): a bridge per node, a static route per peer subnet via the peer's LAN IP, the CNI.
 * `vxlan`: the same bridges, CNI and pods, but peers are reached through an overlay (seed 002): a VXLAN device per node.
 * `docker0`: the "before" state (S6): each node's own docker0.
 */
export type PodNetwork = "lab" | "vxlan" | "docker0";
export const POD_NETWORKS: readonly PodNetwork[] = ["lab", "vxlan", "docker0"];

export interface LabConfig {
    readonly lanCidr: string;
    readonly firstNodeIp: string;
    readonly nodeCount: number;
    readonly clusterCidr: string;
    readonly nodeSubnetPrefix: number;
    readonly bridgeName: string;
    /** Empty: build node/Dockerfile on the host. Otherwise a prebuilt image used as is. */
    readonly nodeImage: string;
    readonly pauseImage: string;
    readonly imageSubstitutions: Readonly<Record<string, string>>;
    readonly nodeSecurity: NodeSecurity;
    readonly preloadImages: boolean;
    readonly pods: readonly string[];
    /** The outside host's LAN address; empty: the LAN's last usable address. */
    readonly outsideHostIp: string;
    readonly outsideHostImage: string;
    readonly podNetwork: PodNetwork;
    readonly cniPlugin: CniPlugin;
    readonly podRuntime: PodRuntime;
    /** Cluster mode: the Service range (the API server's --service-cluster-ip-range). */
    readonly serviceCidr: string;
    /** Cluster mode: the control plane's LAN address; empty: the address just before node1's. */
    readonly controlPlaneIp: string;
    /** Cluster mode: the host port (on 127.0.0.1 only) the API server is published on. */
    readonly apiServerPort: number;
}

/** Docker's default bridge network inside every node (docker0): the lab's ranges must stay off it. */
export const NODE_DOCKER0_CIDR = "172.17.0.0/16";
/** Interfaces every node already has, which the pods' bridge cannot be named after. */
export const NODE_INTERFACES: Readonly<Record<string, string>> = {
    lo: "its loopback interface",
    eth0: "its LAN interface",
    docker0: "Docker's own bridge inside the node",
    "vxlan.1": "the overlay's VXLAN device (podNetwork vxlan)",
};

/** Every key: its default (as Pulumi config would hold it) and its description. Pulumi.yaml mirrors this (a test checks it). */
export const CONFIG_KEYS: { readonly [K in keyof LabConfig]: { readonly default: LabConfig[K]; readonly description: string } } = {
    lanCidr: { default: "192.168.1.0/24", description: "The nodes' LAN: a Docker network with this subnet; its first address is the gateway." },
    firstNodeIp: { default: "192.168.1.11", description: "node1's LAN address; node i gets the i-th address from here." },
    nodeCount: { default: 3, description: "How many nodes (Docker-in-Docker containers) the lab runs." },
    clusterCidr: { default: "10.244.0.0/16", description: "The cluster's pod range; every node's pod subnet is carved from it." },
    nodeSubnetPrefix: { default: 24, description: "Prefix length of each node's pod subnet: node i gets the i-th subnet (node1 -> 10.244.1.0/24)." },
    bridgeName: { default: "v-net-0", description: "Name of the Linux bridge on every node that the pods are wired to." },
    nodeImage: { default: "", description: "A prebuilt node image to use as is; empty builds node/Dockerfile (docker:dind plus iproute2) on the host." },
    pauseImage: { default: "registry.k8s.io/pause:3.10", description: "The image of every pod's sandbox container, which holds the pod's network namespace." },
    imageSubstitutions: { default: {}, description: "Map of image name -> local image to run instead (air-gapped hosts), applied to the pause and pod images." },
    nodeSecurity: { default: "privileged", description: "How node containers get their powers: 'privileged' (docker run --privileged) or 'capabilities' (an explicit flag set for hosts that refuse --privileged)." },
    preloadImages: { default: true, description: "Load every pod image from the host into each node (like 'kind load'); false makes each node pull them." },
    pods: { default: ["pods"], description: "Pod manifest files or folders (of *.yaml), relative to the project folder." },
    outsideHostIp: { default: "", description: "LAN address of the outside host, a web server standing in for the internet (traffic leaving the cluster is masqueraded); empty: the LAN's last usable address." },
    podNetwork: { default: "lab", description: "'lab': the model, routed (a bridge per node with its own subnet, a static route per peer subnet via the peer's LAN IP, the CNI script). 'vxlan': the same, but peers are reached through an overlay: a VXLAN device per node (VNI 1, UDP 4789) and per peer a route, neighbour and FDB entry; pods get MTU 1450. 'docker0': the 'before' state (S6): the same pods on each node's default docker0, with no lab bridge, no routes and no CNI; pulumi up switches between them." },
    cniPlugin: { default: "podnet", description: "The CNI plugin every node's /etc/cni/net.d/10-podnet.conflist names: 'podnet', the lab's own (node/cni/podnet), or 'bridge', the CNI project's reference plugin on the same subnets; pulumi up swaps it under the same pods." },
    podRuntime: { default: "docker", description: POD_RUNTIME_DESCRIPTION },
    serviceCidr: { default: "10.96.0.0/12", description: "Cluster mode: the Service range (kube-apiserver --service-cluster-ip-range); its first address is the kubernetes Service. Disjoint from clusterCidr, lanCidr and 172.17.0.0/16." },
    controlPlaneIp: { default: "", description: "Cluster mode: the control plane's LAN address (etcd, kube-apiserver, kube-controller-manager, kube-scheduler); empty: the address just before node1's (192.168.1.10 by default)." },
    apiServerPort: { default: 6443, description: "Cluster mode: the host port the API server is published on, on 127.0.0.1 only (kubectl and the Kubernetes provider use https://127.0.0.1:<port>)." },
    outsideHostImage: { default: "nginx:1.27", description: "Image of the outside host: a web server on port 80 that logs each client's address (imageSubstitutions apply)." },
};

export const CONFIG_NAMESPACE = "podnet-lab";

/** Keys earlier versions had, and why they are gone: a stack that still sets one is told what to do. */
export const RETIRED_KEYS: Readonly<Record<string, string>> = {
    nodeApiPortBase: "pods are now run through each node's own docker CLI (docker exec <node> docker run ...), so no node publishes a Docker API",
};

const IFNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

export { isImageRef };

/** Did-you-mean for a mistyped key. */
function closest(key: string, names: readonly string[]): string | undefined {
    const k = key.toLowerCase();
    return names.find((n) => n.toLowerCase() === k) ??
        names.find((n) => n.toLowerCase().startsWith(k.slice(0, 4)));
}

/**
 * Validates raw Pulumi config (key -> string, as `pulumi config` stores it; objects and arrays as JSON)
 * into a LabConfig. Unknown keys and bad values are all reported at once.
 */
export function parseLabConfig(raw: Readonly<Record<string, string | undefined>>): { config: LabConfig; problems: Problems } {
    const problems = new Problems();
    const names = Object.keys(CONFIG_KEYS) as (keyof LabConfig)[];
    for (const key of Object.keys(raw)) {
        if (RETIRED_KEYS[key]) {
            problems.add(`config ${CONFIG_NAMESPACE}:${key} is no longer used: ${RETIRED_KEYS[key]}; remove it with 'pulumi config rm ${CONFIG_NAMESPACE}:${key}'`);
        } else if (!(names as string[]).includes(key)) {
            const hint = closest(key, names);
            problems.add(`config ${CONFIG_NAMESPACE}:${key} is not a key of this lab${hint ? ` (did you mean ${CONFIG_NAMESPACE}:${hint}?)` : ""}; valid keys: ${names.join(", ")}`);
        }
    }
    const field = (k: keyof LabConfig) => `config ${CONFIG_NAMESPACE}:${k}`;

    const str = <K extends keyof LabConfig>(k: K): string => {
        const v = raw[k];
        return v === undefined ? String(CONFIG_KEYS[k].default) : v;
    };
    const int = (k: keyof LabConfig, min: number, max: number): number => {
        const v = raw[k];
        if (v === undefined) { return CONFIG_KEYS[k].default as number; }
        const n = Number(v);
        if (!/^-?[0-9]+$/.test(v.trim()) || n < min || n > max) {
            problems.add(`${field(k)} is '${v}'; it must be a whole number from ${min} to ${max}`);
            return CONFIG_KEYS[k].default as number;
        }
        return n;
    };
    const json = (k: keyof LabConfig): unknown => {
        const v = raw[k];
        if (v === undefined) { return CONFIG_KEYS[k].default; }
        try { return JSON.parse(v); } catch { problems.add(`${field(k)} is '${v}', which is not valid JSON/YAML structure`); return CONFIG_KEYS[k].default; }
    };
    const cidr = (k: "lanCidr" | "clusterCidr" | "serviceCidr") => {
        const v = str(k);
        const c = parseCidr(v);
        if (!c) { problems.add(`${field(k)} is '${v}', which is not an IPv4 CIDR like ${CONFIG_KEYS[k].default}`); return undefined; }
        if (hasHostBits(c)) { problems.add(`${field(k)} is '${v}', which has host bits set; did you mean ${formatCidr(networkOf(c))}?`); return undefined; }
        return c;
    };

    const nodeCount = int("nodeCount", 1, 254);
    const nodeSubnetPrefix = int("nodeSubnetPrefix", 1, 30);

    const lan = cidr("lanCidr");
    if (lan && lan.prefix > 29) { problems.add(`${field("lanCidr")} is '${str("lanCidr")}'; a LAN needs at least a /29 (room for a gateway and nodes)`); }
    const cluster = cidr("clusterCidr");
    const docker0 = parseCidr(NODE_DOCKER0_CIDR) as Cidr;
    for (const [k, c] of [["lanCidr", lan], ["clusterCidr", cluster]] as const) {
        if (c && overlaps(c, docker0)) {
            problems.add(`${field(k)} ${formatCidr(c)} overlaps ${NODE_DOCKER0_CIDR}, the Docker network inside every node (docker0); choose a range outside it, like ${CONFIG_KEYS[k].default}`);
        }
    }
    if (cluster && lan && overlaps(cluster, lan)) {
        problems.add(`${field("lanCidr")} ${formatCidr(lan)} overlaps ${field("clusterCidr")} ${formatCidr(cluster)}; the nodes' LAN and the pod range must be disjoint`);
    }
    const services = cidr("serviceCidr");
    // Cluster mode's Service range; only a cluster has one, so only a cluster's must stay off the other ranges.
    const clusterMode = raw.podRuntime === "cluster";
    if (services && clusterMode) {
        for (const [what, c] of [[`${field("clusterCidr")} ${cluster && formatCidr(cluster)}`, cluster], [`${field("lanCidr")} ${lan && formatCidr(lan)}`, lan], [`${NODE_DOCKER0_CIDR} (docker0 inside every node)`, docker0]] as const) {
            if (c && overlaps(services, c)) {
                problems.add(`${field("serviceCidr")} ${formatCidr(services)} overlaps ${what}; a Service range is disjoint from the pods, the LAN and docker0, like ${CONFIG_KEYS.serviceCidr.default}`);
            }
        }
        if (services.prefix > 28) { problems.add(`${field("serviceCidr")} is '${formatCidr(services)}'; a Service range needs at least a /28 (its first address is the kubernetes Service, its tenth the cluster DNS)`); }
    }
    const apiServerPort = int("apiServerPort", 1, 65535);
    if (cluster) {
        if (nodeSubnetPrefix <= cluster.prefix) {
            problems.add(`${field("nodeSubnetPrefix")} is ${nodeSubnetPrefix}; node subnets must be smaller than the cluster range ${formatCidr(cluster)}, so a prefix from ${cluster.prefix + 1} to 30`);
        } else {
            const room = 2 ** (nodeSubnetPrefix - cluster.prefix) - 1;
            if (nodeCount > room) {
                problems.add(`${field("clusterCidr")} ${formatCidr(cluster)} has room for ${room} node subnets of /${nodeSubnetPrefix} (node i gets subnet i; subnet 0 stays unused), but ${field("nodeCount")} is ${nodeCount}`);
            }
        }
    }

    const firstNodeIp = str("firstNodeIp");
    const first = ipToNumber(firstNodeIp);
    if (first === undefined) {
        problems.add(`${field("firstNodeIp")} is '${firstNodeIp}', which is not an IPv4 address like ${CONFIG_KEYS.firstNodeIp.default}`);
    } else if (lan) {
        const gateway = lan.base + 1;
        const lastUsable = lan.base + size(lan) - 2;
        const last = first + nodeCount - 1;
        if (!contains(lan, first) || first <= gateway || last > lastUsable) {
            problems.add(`${field("firstNodeIp")} ${firstNodeIp} with ${nodeCount} node(s) needs ${firstNodeIp}..${numberToIp(last)} inside ${formatCidr(lan)}, after its gateway ${numberToIp(gateway)} and before its broadcast address; valid first addresses: ${numberToIp(gateway + 1)}..${numberToIp(lastUsable - nodeCount + 1)}`);
        }
    }

    const bridgeName = str("bridgeName");
    if (!IFNAME.test(bridgeName)) {
        problems.add(`${field("bridgeName")} is '${bridgeName}'; a Linux interface name is 1 to 15 letters, digits, '_', '.' or '-'`);
    } else if (Object.prototype.hasOwnProperty.call(NODE_INTERFACES, bridgeName)) {
        problems.add(`${field("bridgeName")} is '${bridgeName}', which every node already has as an interface (${NODE_INTERFACES[bridgeName]}); choose another name, like ${CONFIG_KEYS.bridgeName.default}`);
    }

    const nodeImage = str("nodeImage");
    if (nodeImage !== "" && !isImageRef(nodeImage)) {
        problems.add(`${field("nodeImage")} is '${nodeImage}', which is not an image reference like docker:27.5.1-dind (or leave it empty to build node/Dockerfile)`);
    }
    const pauseImage = str("pauseImage");
    if (!isImageRef(pauseImage)) {
        problems.add(`${field("pauseImage")} is '${pauseImage}', which is not an image reference like ${CONFIG_KEYS.pauseImage.default}`);
    }

    const subsRaw = json("imageSubstitutions");
    const imageSubstitutions: Record<string, string> = {};
    if (typeof subsRaw !== "object" || subsRaw === null || Array.isArray(subsRaw)) {
        problems.add(`${field("imageSubstitutions")} must be a map of image -> local image, like {"nginx:1.27": "my/nginx:local"}; got ${JSON.stringify(subsRaw)}`);
    } else {
        for (const [from, to] of Object.entries(subsRaw as Record<string, unknown>)) {
            if (!isImageRef(from)) { problems.add(`${field("imageSubstitutions")} key '${from}' is not an image reference`); }
            if (typeof to !== "string" || !isImageRef(to)) { problems.add(`${field("imageSubstitutions")}['${from}'] is ${JSON.stringify(to)}, which is not an image reference`); }
            else { imageSubstitutions[from] = to; }
        }
    }

    const sec = str("nodeSecurity");
    if (sec !== "privileged" && sec !== "capabilities") {
        problems.add(`${field("nodeSecurity")} is '${sec}'; valid: 'privileged' (docker run --privileged) or 'capabilities' (for hosts that refuse --privileged)`);
    }
    const pre = str("preloadImages");
    if (pre !== "true" && pre !== "false") { problems.add(`${field("preloadImages")} is '${pre}'; valid: true or false`); }

    const outsideHostIp = str("outsideHostIp");
    if (outsideHostIp !== "") {
        const ip = ipToNumber(outsideHostIp);
        if (ip === undefined) {
            problems.add(`${field("outsideHostIp")} is '${outsideHostIp}', which is not an IPv4 address (or leave it empty for the LAN's last usable address)`);
        } else if (lan && first !== undefined) {
            const gateway = lan.base + 1;
            const lastUsable = lan.base + size(lan) - 2;
            if (!contains(lan, ip) || ip <= gateway || ip > lastUsable || (ip >= first && ip < first + nodeCount)) {
                problems.add(`${field("outsideHostIp")} ${outsideHostIp} must be inside ${formatCidr(lan)}, after its gateway, before its broadcast address, and not a node's address (${numberToIp(first)}..${numberToIp(first + nodeCount - 1)})`);
            }
        }
    } else if (lan && first !== undefined && lan.base + size(lan) - 2 < first + nodeCount) {
        problems.add(`${field("lanCidr")} ${formatCidr(lan)} has no address left after the nodes for the outside host; set ${field("outsideHostIp")} or use a larger LAN`);
    }
    const outsideHostImage = str("outsideHostImage");
    if (!isImageRef(outsideHostImage)) {
        problems.add(`${field("outsideHostImage")} is '${outsideHostImage}', which is not an image reference like ${CONFIG_KEYS.outsideHostImage.default}`);
    }

    const podNetwork = str("podNetwork");
    if (!(POD_NETWORKS as string[]).includes(podNetwork)) {
        problems.add(`${field("podNetwork")} is '${podNetwork}'; valid: 'lab' (the model, routed: bridge, routes via peers' LAN IPs, CNI), 'vxlan' (the same over a VXLAN overlay) or 'docker0' (the "before" state: each node's own docker0)`);
    }

    const cniPlugin = str("cniPlugin");
    if (!(CNI_PLUGINS as string[]).includes(cniPlugin)) {
        problems.add(`${field("cniPlugin")} is '${cniPlugin}'; valid: 'podnet' (the lab's own CNI plugin) or 'bridge' (the CNI project's reference plugin)`);
    }

    const podRuntime = str("podRuntime");
    if (!isPodRuntime(podRuntime)) {
        problems.add(`${field("podRuntime")} is '${podRuntime}'; valid: ${POD_RUNTIME_CHOICES}`);
    } else {
        const refused = RUNTIMES[podRuntime].refuses(podNetwork as PodNetwork, field);
        if (refused) { problems.add(refused); }
    }

    // Cluster mode: the control plane's LAN address must be free and on the LAN.
    const controlPlaneIp = str("controlPlaneIp");
    if (clusterMode && lan && first !== undefined) {
        const ip = controlPlaneIp === "" ? first - 1 : ipToNumber(controlPlaneIp);
        const given = controlPlaneIp === "" ? `the address before node1's (${numberToIp(first - 1)}, as ${field("controlPlaneIp")} is empty)` : `${field("controlPlaneIp")} ${controlPlaneIp}`;
        const outside = outsideHostIp === "" ? lan.base + size(lan) - 2 : ipToNumber(outsideHostIp);
        if (ip === undefined) {
            problems.add(`${field("controlPlaneIp")} is '${controlPlaneIp}', which is not an IPv4 address (or leave it empty for the address before node1's)`);
        } else if (!contains(lan, ip) || ip <= lan.base + 1 || ip > lan.base + size(lan) - 2) {
            problems.add(`${given} is not a usable address of the LAN ${formatCidr(lan)} (after its gateway ${numberToIp(lan.base + 1)}, before its broadcast address); set ${field("controlPlaneIp")} to a free one`);
        } else if (ip >= first && ip < first + nodeCount) {
            problems.add(`${given} is taken by a node (${numberToIp(first)}..${numberToIp(first + nodeCount - 1)}); set ${field("controlPlaneIp")} to a free LAN address`);
        } else if (ip === outside) {
            problems.add(`${given} is taken by the outside host; set ${field("controlPlaneIp")} to another LAN address`);
        }
    }

    const podsRaw = json("pods");
    let pods: string[] = [...CONFIG_KEYS.pods.default];
    if (!Array.isArray(podsRaw) || podsRaw.length === 0 || !podsRaw.every((p) => typeof p === "string" && p.length > 0)) {
        problems.add(`${field("pods")} must be a non-empty list of manifest files or folders, like ["pods"]; got ${JSON.stringify(podsRaw)}`);
    } else {
        pods = podsRaw as string[];
    }

    return {
        problems,
        config: {
            lanCidr: str("lanCidr"), firstNodeIp, nodeCount, clusterCidr: str("clusterCidr"), nodeSubnetPrefix, bridgeName,
            nodeImage, pauseImage, imageSubstitutions, nodeSecurity: sec as NodeSecurity, preloadImages: pre === "true", pods,
            outsideHostIp, outsideHostImage, podNetwork: podNetwork as PodNetwork, cniPlugin: cniPlugin as CniPlugin,
            podRuntime: podRuntime as PodRuntime,
            serviceCidr: str("serviceCidr"), controlPlaneIp, apiServerPort,
        },
    };
}
