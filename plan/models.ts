// The pod network models, one function each (docs/model.md): for every node, its pod subnet and bridge, how it reaches
// its peers' pods, and its pods' MTU. planLab (plan.ts) composes the chosen one with placement, pods and images.
import { NODE_DOCKER0_CIDR, PodNetwork } from "./config";
import { Cidr, formatCidr, numberToIp, parseCidr, subnet } from "./ip";

export interface RoutePlan {
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
    /** Resource name of the node's peers on the overlay, one table (e.g. node1-vxlan-peers). */
    readonly peersResourceName: string;
}
/** One peer on the overlay: its subnet is routed into the VXLAN device, its VTEP's MAC is behind its LAN IP. */
export interface VxlanPeerPlan {
    readonly peer: string;
    readonly to: string;
    readonly vtepIp: string;
    readonly mac: string;
    readonly lanIp: string;
}

/** Docker's default bridge network, the same on every node (S6). */
export const DOCKER0: Cidr = parseCidr(NODE_DOCKER0_CIDR) as Cidr;
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

/** What a model needs to know of the nodes (in order: node i+1 is at index i) and of the cluster. */
export interface ModelInputs {
    readonly names: readonly string[];
    readonly lanIps: readonly string[];
    readonly cluster: Cidr;
    readonly nodeSubnetPrefix: number;
    readonly bridgeName: string;
}

/** How a node reaches its peers' pods, and its pods' MTU (a NodePlan has these as the model gave them). */
export interface NodeReach {
    /** Routed model (podNetwork lab): one static route per peer subnet via the peer's LAN IP; empty otherwise. */
    readonly routes: readonly RoutePlan[];
    /**
     * Routed model: the resource that holds the node's routes, one table (e.g. node1-routes): a resource per node, not
     * per route, so a lab of n nodes has n of them, not n(n-1); absent otherwise.
     */
    readonly routesResourceName?: string;
    /** Overlay model (podNetwork vxlan): the VXLAN device; absent otherwise. */
    readonly vxlan?: VxlanPlan;
    /** Overlay model: one entry (route, neighbour, FDB) per peer; empty otherwise. */
    readonly vxlanPeers: readonly VxlanPeerPlan[];
    /** MTU of the pods' eth0 (and their veths) on this node: the LAN's, less the overlay's 50 bytes under vxlan. */
    readonly podMtu: number;
}

/** One node's network under a model. */
export interface NodeNetwork extends NodeReach {
    readonly subnet: Cidr;
    readonly bridge: string;
    /** A CNI configuration wires the pods (false: Docker does, on the node's docker0). */
    readonly cni: boolean;
}

export type NetworkModel = (m: ModelInputs) => NodeNetwork[];

/** Node i's subnet: the i+1-th of the cluster range (subnet 0 stays unused). */
const nodeSubnets = (m: ModelInputs) => m.names.map((_, i) => subnet(m.cluster, m.nodeSubnetPrefix, i + 1));
/** Every node but node i, with its index. */
const peersOf = (m: ModelInputs, i: number) => m.names.flatMap((peer, j) => (j === i ? [] : [{ peer, j }]));

/**
 * Routed (seed 004): a bridge per node with its own subnet (S7), and on every node a static route to each peer's
 * subnet via that peer's LAN IP (S8). Packets cross the LAN as they are.
 */
export function routedModel(m: ModelInputs): NodeNetwork[] {
    const subs = nodeSubnets(m);
    return m.names.map((name, i) => ({
        subnet: subs[i], bridge: m.bridgeName, podMtu: LAN_MTU, cni: true, vxlanPeers: [], routesResourceName: `${name}-routes`,
        routes: peersOf(m, i).map(({ peer, j }) => ({ peer, to: formatCidr(subs[j]), via: m.lanIps[j] })),
    }));
}

/**
 * Overlay (seed 002, Flannel's VXLAN): the same bridges and subnets, but each peer's subnet is routed into a VXLAN
 * device whose frames travel in UDP between LAN IPs; the pods' MTU leaves room for the encapsulation.
 */
export function overlayModel(m: ModelInputs): NodeNetwork[] {
    const subs = nodeSubnets(m);
    const mtu = LAN_MTU - VXLAN_OVERHEAD;
    const vtepIp = (j: number) => numberToIp(subs[j].base);
    return m.names.map((name, i) => ({
        subnet: subs[i], bridge: m.bridgeName, podMtu: mtu, cni: true, routes: [],
        vxlan: {
            resourceName: `${name}-vxlan`, device: VXLAN_DEVICE, vni: VXLAN_VNI, port: VXLAN_PORT, vtepIp: vtepIp(i), mac: macFromIp(vtepIp(i)), mtu,
            peersResourceName: `${name}-vxlan-peers`,
        },
        vxlanPeers: peersOf(m, i).map(({ peer, j }) => ({
            peer, to: formatCidr(subs[j]), vtepIp: vtepIp(j), mac: macFromIp(vtepIp(j)), lanIp: m.lanIps[j],
        })),
    }));
}

/** The "before" state (S6): every node's pods on its own docker0, the same range everywhere; no lab bridge, no routes, no CNI. */
export function beforeModel(m: ModelInputs): NodeNetwork[] {
    return m.names.map(() => ({ subnet: DOCKER0, bridge: "docker0", podMtu: LAN_MTU, cni: false, routes: [], vxlanPeers: [] }));
}

/** The model each podNetwork value names. */
export const NETWORK_MODELS: Readonly<Record<PodNetwork, NetworkModel>> = { lab: routedModel, vxlan: overlayModel, docker0: beforeModel };
