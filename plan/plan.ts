// config + pod specs -> everything the lab declares, as plain values: nodes, subnets, routes, pods, IPs, images, names.
// The network models (routed, overlay, before) are in models.ts; this composes the chosen one with placement and pods.
import { createHash } from "crypto";
import { CniConfList, cniConfList, CniPlugin, conflistText } from "./cni";
import { LabConfig, NodeSecurity, PodNetwork } from "./config";
import { Problems } from "./errors";
import { Cidr, formatCidr, ipToNumber, numberToIp, parseCidr, size } from "./ip";
import { macFromIp, NETWORK_MODELS, NodeNetwork, NodeReach } from "./models";
import { PodSpec, ServiceSpec } from "./pods";
import { planServices, ServicePlan } from "./services";
import { COREDNS_IMAGE, DnsPlan, dnsPlan } from "./dns";
import { PodRuntime, PodRuntimePlan, RUNTIMES } from "./runtimes";
import { ControlPlanePlan, controlPlanePlan } from "./runtimes/cluster";

/** The node's CNI configuration (absent under docker0, where Docker wires the pods). */
export interface NodeCniPlan {
    /** Resource name, e.g. node1-cni. */
    readonly resourceName: string;
    readonly conflist: CniConfList;
    /** The file's content, as written on the node. */
    readonly text: string;
}
export { DOCKER0, LAN_MTU, macFromIp, VXLAN_DEVICE, VXLAN_OVERHEAD, VXLAN_PORT, VXLAN_VNI } from "./models";
export type { RoutePlan, VxlanPeerPlan, VxlanPlan } from "./models";

export interface NodePlan extends NodeReach {
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
    /**
     * The lab bridge's own MAC, made from its address (10.244.1.1 -> 0a:58:0a:f4:01:01) and set when it is made, so it
     * never follows its ports as they come and go (a bridge without one takes its lowest port's). Absent under docker0.
     */
    readonly bridgeMac?: string;
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
    /** What its runtime has of it: docker mode, nothing more; kubelet mode, its static pod manifest on its node. */
    readonly runtime: PodRuntimePlan;
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
    /** node/Dockerfile, built on the host up to `target`, its stage for the pod runtime (RUNTIMES[podRuntime].nodeImage). */
    | { readonly kind: "build"; readonly name: string; readonly context: string; readonly target: string }
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
    /** Cluster mode: the control plane on the LAN (absent in the other modes). */
    readonly controlPlane?: ControlPlanePlan;
    /** Cluster mode: the cluster DNS (CoreDNS behind kube-dns); absent in the other modes. */
    readonly dns?: DnsPlan;
    /** Cluster mode: the Services of the pod folder, applied to the API server (empty in the other modes). */
    readonly services: readonly ServicePlan[];
    /** The Services of the pod folder the other modes do not apply (they run no kube-proxy): their names. */
    readonly servicesNotApplied: readonly string[];
    /** Cluster mode: the Services whose selector picks no running pod (they have no endpoint). */
    readonly servicesWithoutEndpoints: readonly string[];
}

export const LABEL_STACK = "podnet-lab.stack";
export const LABEL_PROJECT = "podnet-lab.project";
/**
 * This lab's own identity on the host: random, made once by the `instance` step and kept in the state. Two checkouts
 * with a stack of the same name on one Docker engine share every other label; this one tells their objects apart.
 */
export const LABEL_INSTANCE = "podnet-lab.instance";
/** The environment variable the LAN's commands read the instance from. */
export const INSTANCE_ENV = "PODNET_INSTANCE";
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

/** Pods in name order, each placed on a node or left Pending (rendezvousNode unless spec.nodeName names one). */
function placePods(specs: readonly PodSpec[], nodeNames: readonly string[], problems: Problems): { sorted: PodSpec[]; placement: Map<string, string>; pending: PendingPodPlan[] } {
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
                reason: `spec.nodeName '${s.nodeName}' (${s.source}) is not a node of this lab; nodes: ${nodeNames.join(", ")} (config podnet-lab:nodeCount is ${nodeNames.length})`,
            });
        }
    }
    return { sorted, placement, pending };
}

/** One pod on its node: names kubelet-style, the node's subnet and gateway, the images it runs (after substitution). */
function planPod(s: PodSpec, node: string, net: NodeNetwork, config: LabConfig): PodPlan {
    const runImages = s.containers.map((c) => image(c.image, config.imageSubstitutions).ref);
    return {
        name: s.name,
        node,
        podCidr: formatCidr(net.subnet),
        gateway: numberToIp(net.subnet.base + 1),
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
        runtime: RUNTIMES[config.podRuntime].podPlan({ spec: s, node, runImages, preloaded: config.preloadImages }),
    };
}

/**
 * Plans the lab. `config` must come from parseLabConfig without problems; pods from parsePodManifests.
 * The network model that config.podNetwork names (models.ts) gives every node its subnet, bridge, peers and MTU;
 * placement puts the pods on nodes. Pod IPs are not planned: the node's IPAM hands them out at CNI ADD, as in a real cluster.
 */
export function planLab(config: LabConfig, specs: readonly PodSpec[], stack: string, serviceSpecs: readonly ServiceSpec[] = []): { plan: LabPlan; problems: Problems } {
    const problems = new Problems();
    const prefix = `podnet-${stack}`;
    const lan = parseCidr(config.lanCidr) as Cidr;
    const cluster = parseCidr(config.clusterCidr) as Cidr;
    const first = ipToNumber(config.firstNodeIp) as number;
    const nodeNames = Array.from({ length: config.nodeCount }, (_, i) => `node${i + 1}`);
    const lanIps = nodeNames.map((_, i) => numberToIp(first + i));
    const { sorted, placement, pending } = placePods(specs, nodeNames, problems);
    // A Pod object whose node does not exist would wait for it forever (and the provider with it): refused here.
    if (config.podRuntime === "cluster") {
        for (const p of pending) { problems.add(`${p.reason}; in cluster mode every pod runs on a node of the lab (or has no spec.nodeName, and the lab places it)`); }
    }
    const networks = NETWORK_MODELS[config.podNetwork]({ names: nodeNames, lanIps, cluster, nodeSubnetPrefix: config.nodeSubnetPrefix, bridgeName: config.bridgeName });

    const pods: PodPlan[] = [];
    const nodes: NodePlan[] = nodeNames.map((name, i) => {
        const net = networks[i];
        const bridgeIp = numberToIp(net.subnet.base + 1);
        const onNode = sorted.filter((s) => placement.get(s.name) === name);
        const room = size(net.subnet) - 3; // network, bridge, broadcast
        if (onNode.length > room) {
            problems.add(`${name}'s pod subnet ${formatCidr(net.subnet)} has room for ${room} pod(s), but ${onNode.length} are placed on it (${onNode.map((p) => p.name).join(", ")}); use a smaller config podnet-lab:nodeSubnetPrefix or more nodes`);
        }
        pods.push(...onNode.map((s) => planPod(s, name, net, config)));
        return {
            name,
            container: `${prefix}-${name}`,
            lanIp: lanIps[i],
            podCidr: formatCidr(net.subnet),
            bridge: net.bridge,
            bridgeIp,
            bridgeCidr: `${bridgeIp}/${net.subnet.prefix}`,
            ...(net.cni ? { bridgeMac: macFromIp(bridgeIp) } : {}),
            routes: net.routes,
            routesResourceName: net.routesResourceName,
            ...(net.vxlan ? { vxlan: net.vxlan } : {}),
            vxlanPeers: net.vxlanPeers,
            podMtu: net.podMtu,
            ...(net.cni ? { cni: nodeCni(name, config.cniPlugin, net.bridge, formatCidr(net.subnet), bridgeIp, net.podMtu) } : {}),
            pods: onNode.map((p) => p.name),
        };
    });

    const clusterMode = config.podRuntime === "cluster";
    const svc = planServices(clusterMode ? serviceSpecs : [], pods.map((p) => ({ spec: p.source, node: p.node })));
    for (const p of svc.problems.all) { problems.add(p); }

    const pauseImage = image(config.pauseImage, config.imageSubstitutions);
    const images: ImagePlan[] = [pauseImage];
    for (const c of pods.flatMap((p) => p.containers)) {
        if (!images.some((im) => im.ref === c.runImage)) { images.push(image(c.runImage, {})); }
    }
    // Cluster mode: CoreDNS's image too, which every node holds (the scheduler may put its pod on any of them).
    const dnsImage = image(COREDNS_IMAGE, config.imageSubstitutions);
    if (clusterMode && !images.some((im) => im.ref === dnsImage.ref)) { images.push(dnsImage); }

    return {
        problems,
        plan: {
            stack,
            prefix,
            labels: { [LABEL_PROJECT]: "podnet-lab", [LABEL_STACK]: stack },
            lan: { network: `${prefix}-lan`, cidr: formatCidr(lan), gateway: numberToIp(lan.base + 1) },
            clusterCidr: formatCidr(cluster),
            nodeImage: config.nodeImage === ""
                ? { kind: "build", context: "node", ...RUNTIMES[config.podRuntime].nodeImage }
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
                image: image(config.outsideHostImage, config.imageSubstitutions),
            },
            renderDir: `rendered/${stack}`,
            ...(config.podRuntime === "cluster" ? {
                controlPlane: controlPlanePlan(prefix, stack, config.controlPlaneIp || numberToIp(first - 1),
                    { serviceCidr: config.serviceCidr, clusterCidr: formatCidr(cluster), lanCidr: formatCidr(lan) }, config.apiServerPort),
            } : {}),
            ...(clusterMode ? { dns: dnsPlan(config.serviceCidr, dnsImage.ref) } : {}),
            services: svc.services,
            servicesNotApplied: clusterMode ? [] : serviceSpecs.map((x) => x.name),
            servicesWithoutEndpoints: svc.noEndpoints,
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
