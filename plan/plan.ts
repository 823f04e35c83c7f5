// config + pod specs -> everything the lab declares, as plain values: nodes, subnets, routes, pods, IPs, images, names.
import { createHash } from "crypto";
import { CniConfList, cniConfList, CniPlugin, conflistText } from "./cni";
import { LabConfig, NODE_DOCKER0_CIDR, NodeSecurity, PodNetwork } from "./config";
import { Problems } from "./errors";
import { PodRuntime, StaticPodPlan, staticPodPlan } from "./kubelet";
import { Cidr, formatCidr, ipToNumber, numberToIp, parseCidr, size, subnet } from "./ip";
import { PodSpec } from "./pods";

export interface RoutePlan {
    /** Resource name, e.g. node1-route-to-node3. */
    readonly resourceName: string;
    readonly peer: string;
    readonly to: string;
    readonly via: string;
}
/** The overlay (podNetwork vxlan): this node's VXLAN device, Flannel-style. */
export interface VxlanPlan {
    /** Resource name, e.g. node1-vxlan. */
    readonly resourceName: string;
    readonly device: string;
    readonly vni: number;
    /** UDP port of the encapsulated packets (IANA's VXLAN port). */
    readonly port: number;
    /** The device's own address: the node subnet's network address, as a /32 (Flannel's convention). */
    readonly vtepIp: string;
    /** The device's MAC, made from the VTEP address (0a:58 + its 4 bytes), so every peer knows it in advance. */
    readonly mac: string;
    /** LAN MTU minus the 50 bytes of VXLAN encapsulation. */
    readonly mtu: number;
}
/** One peer on the overlay: its subnet is routed into the VXLAN device, its VTEP's MAC is behind its LAN IP. */
export interface VxlanPeerPlan {
    /** Resource name, e.g. node1-vxlan-to-node3. */
    readonly resourceName: string;
    readonly peer: string;
    readonly to: string;
    readonly vtepIp: string;
    readonly mac: string;
    readonly lanIp: string;
}
/** The node's CNI configuration (absent under docker0, where Docker wires the pods). */
export interface NodeCniPlan {
    /** Resource name, e.g. node1-cni. */
    readonly resourceName: string;
    readonly conflist: CniConfList;
    /** The file's content, as written on the node. */
    readonly text: string;
}
export interface NodePlan {
    /** node1, node2, ... (also the hostname). */
    readonly name: string;
    /** Host-side container name, unique per stack. */
    readonly container: string;
    readonly lanIp: string;
    readonly podCidr: string;
    readonly bridge: string;
    readonly bridgeIp: string;
    /** Bridge address with the subnet's prefix, e.g. 10.244.1.1/24. */
    readonly bridgeCidr: string;
    /** Routed model (podNetwork lab): one static route per peer subnet via the peer's LAN IP; empty otherwise. */
    readonly routes: readonly RoutePlan[];
    /** Overlay model (podNetwork vxlan): the VXLAN device; absent otherwise. */
    readonly vxlan?: VxlanPlan;
    /** Overlay model: one entry per peer; empty otherwise. */
    readonly vxlanPeers: readonly VxlanPeerPlan[];
    /** MTU of the pods' eth0 (and their veths) on this node: the LAN's, less the overlay's 50 bytes under vxlan. */
    readonly podMtu: number;
    /** The node's CNI configuration (/etc/cni/net.d); absent under docker0. */
    readonly cni?: NodeCniPlan;
    /** Names of the pods placed on this node. */
    readonly pods: readonly string[];
}
export interface ContainerPlan {
    readonly name: string;
    /** Container name inside the node, kubelet-style: k8s_<container>_<pod>. */
    readonly container: string;
    /** The image as the manifest names it. */
    readonly image: string;
    /** The image actually run (after imageSubstitutions). */
    readonly runImage: string;
    readonly entrypoint?: readonly string[];
    readonly command?: readonly string[];
    readonly envs: readonly string[];
}
export interface PodPlan {
    readonly name: string;
    readonly node: string;
    /** The node's pod subnet: the CNI's IPAM (host-local) hands out the pod IP from it; the IP is known after ADD. */
    readonly podCidr: string;
    /** The node's bridge address: the pod's default gateway. */
    readonly gateway: string;
    /** Sandbox (pause) container name inside the node, kubelet-style: k8s_POD_<pod>. */
    readonly sandbox: string;
    readonly containers: readonly ContainerPlan[];
    readonly source: PodSpec;
    /** Kubelet mode: the pod as a static pod manifest on its node (absent in docker mode). */
    readonly staticPod?: StaticPodPlan;
}
/** A pod that names a node the lab does not have: not run, like a Pending pod in Kubernetes. */
export interface PendingPodPlan {
    readonly name: string;
    readonly nodeName: string;
    readonly reason: string;
    readonly source: PodSpec;
}
export interface ImagePlan {
    /** Image reference as run (after substitution). */
    readonly ref: string;
    /** Stable resource-name fragment derived from ref. */
    readonly key: string;
}
export type NodeImagePlan =
    | { readonly kind: "build"; readonly name: string; readonly context: string }
    | { readonly kind: "prebuilt"; readonly ref: string };

export interface LabPlan {
    readonly stack: string;
    /** Prefix of every host-side object name: podnet-<stack>. */
    readonly prefix: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly lan: { readonly network: string; readonly cidr: string; readonly gateway: string };
    readonly clusterCidr: string;
    readonly nodeImage: NodeImagePlan;
    readonly security: NodeSecurity;
    /** lab (the model, routed), vxlan (the model over an overlay) or docker0 (the "before" state: no lab bridge, no routes, no CNI). */
    readonly podNetwork: PodNetwork;
    /** The CNI plugin every node's configuration names (unused under docker0). */
    readonly cniPlugin: CniPlugin;
    /** Who builds the pods: the lab's explicit steps through each node's Docker, or a real kubelet with containerd. */
    readonly podRuntime: PodRuntime;
    readonly preloadImages: boolean;
    readonly pauseImage: ImagePlan;
    /** Every distinct image a node runs (pause first), after substitution. */
    readonly images: readonly ImagePlan[];
    readonly nodes: readonly NodePlan[];
    readonly pods: readonly PodPlan[];
    /** Pods not run because their spec.nodeName names no node of the lab. */
    readonly pending: readonly PendingPodPlan[];
    /** A web server on the LAN standing in for the internet: what leaves the cluster is masqueraded. */
    readonly outside: { readonly name: string; readonly container: string; readonly ip: string; readonly image: ImagePlan };
    readonly renderDir: string;
}

export const NODE_IMAGE_NAME = "podnet-lab/node:27.5.1";
/** Docker's default bridge network, the same on every node (S6). */
export const DOCKER0: Cidr = parseCidr(NODE_DOCKER0_CIDR) as Cidr;
export const LABEL_STACK = "podnet-lab.stack";
export const LABEL_PROJECT = "podnet-lab.project";
/** The LAN's MTU (a Docker bridge network's default). */
export const LAN_MTU = 1500;
/** What VXLAN adds to every packet: outer IPv4 (20) + UDP (8) + VXLAN (8) headers + the inner Ethernet header (14). */
export const VXLAN_OVERHEAD = 50;
export const VXLAN_DEVICE = "vxlan.1";
export const VXLAN_VNI = 1;
export const VXLAN_PORT = 4789;

/** A MAC made from an IPv4 address: 0a:58 + its four bytes (10.244.2.0 -> 0a:58:0a:f4:02:00), locally administered. */
export function macFromIp(ip: string): string {
    return ["0a", "58", ...ip.split(".").map((b) => Number(b).toString(16).padStart(2, "0"))].join(":");
}

/** A name fragment for an image reference: nginx:1.27 -> nginx-1-27. */
export function imageKey(ref: string): string {
    return ref.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

function image(ref: string, subs: Readonly<Record<string, string>>): ImagePlan {
    const run = subs[ref] ?? ref;
    return { ref: run, key: imageKey(run) };
}

function nodeCni(node: string, plugin: CniPlugin, bridge: string, podCidr: string, gateway: string, mtu: number): NodeCniPlan {
    const conflist = cniConfList(plugin, { bridge, podCidr, gateway, mtu });
    return { resourceName: `${node}-cni`, conflist, text: conflistText(conflist) };
}

/**
 * Rendezvous (highest-random-weight) hashing: the node whose hash with the pod's name is highest. Adding or
 * removing a pod never moves another pod; adding a node moves only the pods that now score highest on it.
 */
export function rendezvousNode(pod: string, nodes: readonly string[]): string {
    let best = "";
    let bestScore = "";
    for (const node of nodes) {
        const score = createHash("sha256").update(`${pod}\0${node}`).digest("hex");
        if (score > bestScore) { best = node; bestScore = score; }
    }
    return best;
}

/**
 * Plans the lab. `config` must come from parseLabConfig without problems; pods from parsePodManifests.
 * Placement: a pod with spec.nodeName goes there (or stays Pending if no such node exists); the others go to
 * rendezvousNode. Pod IPs are not planned: the node's IPAM hands them out at CNI ADD, as in a real cluster.
 */
export function planLab(config: LabConfig, specs: readonly PodSpec[], stack: string): { plan: LabPlan; problems: Problems } {
    const problems = new Problems();
    const prefix = `podnet-${stack}`;
    const lan = parseCidr(config.lanCidr) as Cidr;
    const cluster = parseCidr(config.clusterCidr) as Cidr;
    const first = ipToNumber(config.firstNodeIp) as number;
    const nodeNames = Array.from({ length: config.nodeCount }, (_, i) => `node${i + 1}`);

    const placement = new Map<string, string>();
    const pending: PendingPodPlan[] = [];
    const sorted = [...specs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const s of sorted) {
        if (/^node[0-9]+$/.test(s.name)) {
            problems.add(`${s.source}: metadata.name '${s.name}' is the name of a node (node1, node2, ...); choose another pod name`);
        }
        if (s.nodeName === undefined) {
            placement.set(s.name, rendezvousNode(s.name, nodeNames));
        } else if (nodeNames.includes(s.nodeName)) {
            placement.set(s.name, s.nodeName);
        } else {
            pending.push({
                name: s.name, nodeName: s.nodeName, source: s,
                reason: `spec.nodeName '${s.nodeName}' (${s.source}) is not a node of this lab; nodes: ${nodeNames.join(", ")} (config podnet-lab:nodeCount is ${config.nodeCount})`,
            });
        }
    }

    const subs = config.imageSubstitutions;
    const pauseImage = image(config.pauseImage, subs);
    // Under docker0 (the "before" state), every node's pods are on Docker's default bridge, the same range on every node.
    const docker0 = config.podNetwork === "docker0";
    const nodeSubnets = nodeNames.map((_, i) => (docker0 ? DOCKER0 : subnet(cluster, config.nodeSubnetPrefix, i + 1)));
    const overlay = config.podNetwork === "vxlan";
    const podMtu = overlay ? LAN_MTU - VXLAN_OVERHEAD : LAN_MTU;
    const vtepIp = (j: number) => numberToIp(nodeSubnets[j].base);

    const pods: PodPlan[] = [];
    const nodes: NodePlan[] = nodeNames.map((name, i) => {
        const sub = nodeSubnets[i];
        const bridgeIp = sub.base + 1;
        const onNode = sorted.filter((s) => placement.get(s.name) === name);
        const room = size(sub) - 3; // network, bridge, broadcast
        if (onNode.length > room) {
            problems.add(`${name}'s pod subnet ${formatCidr(sub)} has room for ${room} pod(s), but ${onNode.length} are placed on it (${onNode.map((p) => p.name).join(", ")}); use a smaller config podnet-lab:nodeSubnetPrefix or more nodes`);
        }
        for (const s of onNode) {
            const runImages = s.containers.map((c) => image(c.image, subs).ref);
            pods.push({
                name: s.name,
                node: name,
                podCidr: formatCidr(sub),
                gateway: numberToIp(bridgeIp),
                sandbox: `k8s_POD_${s.name}`,
                source: s,
                containers: s.containers.map((c, j) => ({
                    name: c.name,
                    container: `k8s_${c.name}_${s.name}`,
                    image: c.image,
                    runImage: runImages[j],
                    ...(c.command ? { entrypoint: c.command } : {}),
                    ...(c.args ? { command: c.args } : {}),
                    envs: c.env.map((e) => `${e.name}=${e.value}`),
                })),
                ...(config.podRuntime === "kubelet" ? { staticPod: staticPodPlan(s, name, runImages, config.preloadImages) } : {}),
            });
        }
        return {
            name,
            container: `${prefix}-${name}`,
            lanIp: numberToIp(first + i),
            podCidr: formatCidr(sub),
            bridge: docker0 ? "docker0" : config.bridgeName,
            bridgeIp: numberToIp(bridgeIp),
            bridgeCidr: `${numberToIp(bridgeIp)}/${sub.prefix}`,
            routes: docker0 || overlay ? [] : nodeNames.flatMap((peer, j) => (j === i ? [] : [{
                resourceName: `${name}-route-to-${peer}`,
                peer,
                to: formatCidr(nodeSubnets[j]),
                via: numberToIp(first + j),
            }])),
            ...(overlay ? {
                vxlan: {
                    resourceName: `${name}-vxlan`, device: VXLAN_DEVICE, vni: VXLAN_VNI, port: VXLAN_PORT,
                    vtepIp: vtepIp(i), mac: macFromIp(vtepIp(i)), mtu: podMtu,
                },
            } : {}),
            vxlanPeers: !overlay ? [] : nodeNames.flatMap((peer, j) => (j === i ? [] : [{
                resourceName: `${name}-vxlan-to-${peer}`,
                peer,
                to: formatCidr(nodeSubnets[j]),
                vtepIp: vtepIp(j),
                mac: macFromIp(vtepIp(j)),
                lanIp: numberToIp(first + j),
            }])),
            podMtu,
            ...(docker0 ? {} : { cni: nodeCni(name, config.cniPlugin, config.bridgeName, formatCidr(sub), numberToIp(bridgeIp), podMtu) }),
            pods: onNode.map((p) => p.name),
        };
    });

    const images: ImagePlan[] = [pauseImage];
    for (const p of pods) {
        for (const c of p.containers) {
            if (!images.some((im) => im.ref === c.runImage)) { images.push(image(c.runImage, {})); }
        }
    }

    return {
        problems,
        plan: {
            stack,
            prefix,
            labels: { [LABEL_PROJECT]: "podnet-lab", [LABEL_STACK]: stack },
            lan: { network: `${prefix}-lan`, cidr: formatCidr(lan), gateway: numberToIp(lan.base + 1) },
            clusterCidr: formatCidr(cluster),
            nodeImage: config.nodeImage === ""
                ? { kind: "build", name: NODE_IMAGE_NAME, context: "node" }
                : { kind: "prebuilt", ref: config.nodeImage },
            security: config.nodeSecurity,
            podNetwork: config.podNetwork,
            cniPlugin: config.cniPlugin,
            podRuntime: config.podRuntime,
            preloadImages: config.preloadImages,
            pauseImage,
            images,
            nodes,
            pods,
            pending,
            outside: {
                name: "outside",
                container: `${prefix}-outside`,
                ip: config.outsideHostIp || numberToIp(lan.base + size(lan) - 2),
                image: image(config.outsideHostImage, subs),
            },
            renderDir: `rendered/${stack}`,
        },
    };
}

/**
 * How a node reaches each peer's pods, as `ip route` shows it: routed, via the peer's LAN IP; overlay, via the
 * peer's VTEP on the VXLAN device, whose frames go in UDP to the peer's LAN IP (`remote`).
 */
export function peerRoutes(n: NodePlan): { to: string; via: string; dev?: string; remote?: string }[] {
    const v = n.vxlan;
    return v ? n.vxlanPeers.map((p) => ({ to: p.to, via: p.vtepIp, dev: v.device, remote: p.lanIp }))
        : n.routes.map((r) => ({ to: r.to, via: r.via }));
}
