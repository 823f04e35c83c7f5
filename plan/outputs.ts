// The stack outputs, a contract: scripts, the cockpit and the tests read `pulumi stack output --json` (the e2e run
// writes the same to .lab/e2e/outputs.json; docs/lifecycle.md, "Stack outputs (a contract)"). One type, documented
// here once, and one pure function that builds it from the plan: the components supply only what a running lab knows.
import { CniPlugin } from "./cni";
import { PodNetwork } from "./config";
import { PodIps, renderDiagram } from "./diagram";
import { assertNever } from "./errors";
import { LabPlan, peerRoutes, PodPlan } from "./plan";
import { DNS_NAMESPACE, DNS_SERVICE } from "./dns";
import { ServiceType } from "./pods";
import { PodRuntime } from "./runtimes";
import { ServicePortPlan } from "./services";
import { KUBERNETES_VERSION } from "./runtimes/cluster";

/**
 * The stack outputs, as the program declares them. `Live` is the type of the values only the running lab knows (each
 * marked "live" below): plain strings in the JSON; in the program, pulumi Outputs (a pod's IP is unknown in the
 * preview of a new pod). Everything else comes from the plan.
 */
export interface LabOutputs<Live = string> {
    readonly lan: { readonly network: string; readonly cidr: string; readonly gateway: string };
    /** The outside host on the LAN (a web server standing in for the internet); `container`, live, its Docker name. */
    readonly outside: { readonly name: string; readonly container: Live; readonly ip: string };
    /** e.g. 10.244.0.0/16. */
    readonly clusterCidr: string;
    /** lab (the model, routed), vxlan (the model over an overlay) or docker0 (the "before" state). */
    readonly podNetwork: PodNetwork;
    /** The CNI plugin every node's configuration names: podnet or bridge (absent under docker0: no CNI). */
    readonly cniPlugin?: CniPlugin;
    /**
     * Who builds the pods: docker (the lab's explicit steps through each node's Docker), kubelet (a real kubelet and
     * containerd) or cluster (the same kubelets, registered with the lab's control plane; the pods are Pod objects).
     */
    readonly podRuntime: PodRuntime;
    /** Cluster mode: the control plane (absent in the other modes). The admin kubeconfig is the secret output `kubeconfig`. */
    readonly controlPlane?: {
        readonly name: string;
        /** Live: its Docker container name on the host. */
        readonly container: Live;
        readonly lanIp: string;
        /** What kubectl on the host talks to: https://127.0.0.1:<apiServerPort>. */
        readonly server: string;
        /** What the kubelets talk to: https://<lanIp>:6443. */
        readonly lanServer: string;
        readonly serviceCidr: string;
        /** The admin kubeconfig on the host, relative to the project (mode 0600): .lab/<stack>/kubeconfig. */
        readonly kubeconfigFile: string;
        readonly version: string;
    };
    /** Cluster mode: the cluster DNS every pod asks (kube-dns, CoreDNS): its address, the domain, and the Service. */
    readonly clusterDns?: { readonly ip: string; readonly domain: string; readonly service: string };
    /** Cluster mode: live, a secret: the admin kubeconfig (the API server at `controlPlane.server`), as in `kubeconfigFile`. */
    readonly kubeconfig?: Live;
    readonly nodes: readonly NodeOutput<Live>[];
    /** Running pods. */
    readonly pods: readonly PodOutput<Live>[];
    /**
     * Cluster mode: the Services of the pod folder (empty in the other modes, which run no kube-proxy). Each one's
     * ClusterIP (live: the API server allocates it), its ports (a NodePort Service's `nodePort` is open on every
     * node's LAN IP), and its endpoints: the running pods its selector picks.
     */
    readonly services: readonly ServiceOutput<Live>[];
    /** Pods not run, like Kubernetes' Pending: their spec.nodeName names no node of the lab (empty when all run). */
    readonly pendingPods: readonly { readonly name: string; readonly nodeName: string; readonly reason: string }[];
    /** Live: the picture in README.md, with the pod IPs the nodes handed out (labDiagram). */
    readonly diagram: Live;
    /** Where the pods' Kubernetes manifests are rendered, relative to the project: rendered/<stack>. */
    readonly renderedManifests: string;
}

export interface NodeOutput<Live = string> {
    /** node1, node2, ... (also the hostname). */
    readonly name: string;
    /** Live: the node's Docker container name on the host (podnet-<stack>-node1). */
    readonly container: Live;
    readonly lanIp: string;
    readonly podCidr: string;
    /** The node's pod bridge (docker0 under podNetwork docker0) and its address, the pods' gateway. */
    readonly bridge: string;
    readonly bridgeIp: string;
    /** The lab bridge's own MAC (set when it is made; the pods' gateway in their `ip neigh`). Absent under docker0. */
    readonly bridgeMac?: string;
    /**
     * How this node reaches each peer's pods. Routed: `via` the peer's LAN IP. Overlay: `via` the peer's VTEP on
     * the VXLAN device (`dev`), whose frames go in UDP to `remote`, the peer's LAN IP. Empty under docker0.
     */
    readonly routes: readonly { readonly to: string; readonly via: string; readonly dev?: string; readonly remote?: string }[];
    /** The overlay's VXLAN device (podNetwork vxlan only). */
    readonly vxlan?: {
        readonly device: string; readonly vni: number; readonly port: number; readonly vtepIp: string; readonly mac: string; readonly mtu: number;
    };
    /** MTU of this node's pods: the LAN's 1500, 1450 under vxlan. */
    readonly podMtu: number;
}

export interface ServiceOutput<Live = string> {
    readonly name: string;
    /** ClusterIP or NodePort. */
    readonly type: ServiceType;
    /** Live: the virtual IP, from the Service range (controlPlane.serviceCidr). */
    readonly clusterIp: Live;
    readonly ports: readonly ServicePortPlan[];
    /** Its selector as kubectl prints it: app=web (several: a=b,c=d). */
    readonly selector: string;
    /** The running pods its selector picks: the EndpointSlice's addresses. `ip`, live, as in `pods`. */
    readonly endpoints: readonly { readonly pod: string; readonly node: string; readonly ip: Live }[];
}

export interface PodOutput<Live = string> {
    readonly name: string;
    /** The node it runs on. */
    readonly node: string;
    /**
     * Live: what the node's IPAM handed out at CNI ADD. Kubelet mode: the address of the sandbox `pulumi up` saw (a
     * restarted node's pods get new sandboxes, and may get new addresses).
     */
    readonly ip: Live;
    /**
     * Docker mode: the pause container's name in the node's Docker (k8s_POD_web-1). Kubelet mode: the name kubelet
     * gives the pod (web-1-node1). Cluster mode: the Pod object's name (web-1).
     */
    readonly sandbox: string;
    /** Who built it: docker, kubelet or cluster. */
    readonly runtime: PodRuntime;
    /** Kubelet mode: the static pod manifest on its node (absent in docker mode). */
    readonly manifest?: string;
    /**
     * `image` as the manifest names it. `container`: docker mode, its name in the node's Docker (k8s_nginx_web-1);
     * kubelet mode, its name in the pod (nginx).
     */
    readonly containers: readonly { readonly name: string; readonly container: string; readonly image: string }[];
}

/** Makes the fields K of T optional. */
type Older<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/**
 * The outputs of any lab, as the cockpit reads them: a lab brought up by an older program lacks the fields added
 * since. podNetwork came with docker0, the nodes' podMtu with the overlay, cniPlugin with the plugin swap (it is also
 * absent under docker0), podRuntime and the pods' runtime with kubelet mode. Absent means what the lab did before:
 * routed, pod MTU 1500, podnet, docker.
 */
export type AnyLabOutputs = Older<Omit<LabOutputs, "nodes" | "pods">, "podNetwork" | "podRuntime" | "services"> & {
    readonly nodes: readonly Older<NodeOutput, "podMtu">[];
    readonly pods: readonly Older<PodOutput, "runtime">[];
};

/** What only the running lab knows; the components supply it (as pulumi Outputs), keyed by pod and node name. */
export interface LiveValues<Live = string> {
    /** Each pod's IP, by pod name. */
    readonly podIps: Readonly<Record<string, Live>>;
    /** Each node's container name on the host, by node name. */
    readonly nodeContainers: Readonly<Record<string, Live>>;
    readonly outsideContainer: Live;
    /** Cluster mode: each Service's ClusterIP, by Service name. */
    readonly serviceClusterIps?: Readonly<Record<string, Live>>;
    /** Cluster mode: the control plane's container name on the host, and the admin kubeconfig (a secret). */
    readonly controlPlaneContainer?: Live;
    readonly kubeconfig?: Live;
    /** The picture: labDiagram(plan, the pod IPs). */
    readonly diagram: Live;
}

function liveOf<Live>(values: Readonly<Record<string, Live>>, what: string, name: string): Live {
    if (!Object.prototype.hasOwnProperty.call(values, name)) { throw new Error(`no live ${what} for ${name}`); }
    return values[name];
}

/** The stack outputs: everything from the plan, plus the live values. Keys in the order the JSON has them. */
export function labOutputs<Live = string>(plan: LabPlan, live: LiveValues<Live>): LabOutputs<Live> {
    return {
        lan: { network: plan.lan.network, cidr: plan.lan.cidr, gateway: plan.lan.gateway },
        outside: { name: plan.outside.name, container: live.outsideContainer, ip: plan.outside.ip },
        clusterCidr: plan.clusterCidr,
        podNetwork: plan.podNetwork,
        ...(plan.podNetwork === "docker0" ? {} : { cniPlugin: plan.cniPlugin }),
        podRuntime: plan.podRuntime,
        ...(plan.controlPlane ? {
            controlPlane: {
                name: plan.controlPlane.name,
                container: live.controlPlaneContainer ?? (() => { throw new Error("no live container name for the control plane"); })(),
                lanIp: plan.controlPlane.lanIp,
                server: plan.controlPlane.hostServer,
                lanServer: plan.controlPlane.server,
                serviceCidr: plan.controlPlane.serviceCidr,
                kubeconfigFile: plan.controlPlane.kubeconfigFile,
                version: KUBERNETES_VERSION,
            },
            ...(plan.dns ? { clusterDns: { ip: plan.dns.ip, domain: plan.dns.domain, service: `${DNS_NAMESPACE}/${DNS_SERVICE}` } } : {}),
            kubeconfig: live.kubeconfig ?? (() => { throw new Error("no live kubeconfig for the control plane"); })(),
        } : {}),
        nodes: plan.nodes.map((n) => ({
            name: n.name,
            container: liveOf(live.nodeContainers, "container name", n.name),
            lanIp: n.lanIp,
            podCidr: n.podCidr,
            bridge: n.bridge,
            bridgeIp: n.bridgeIp,
            ...(n.bridgeMac ? { bridgeMac: n.bridgeMac } : {}),
            routes: peerRoutes(n),
            ...(n.vxlan ? { vxlan: { device: n.vxlan.device, vni: n.vxlan.vni, port: n.vxlan.port, vtepIp: n.vxlan.vtepIp, mac: n.vxlan.mac, mtu: n.vxlan.mtu } } : {}),
            podMtu: n.podMtu,
        })),
        pods: plan.pods.map((p) => ({
            name: p.name,
            node: p.node,
            ip: liveOf(live.podIps, "IP", p.name),
            ...podRuntimeOutputs(p),
        })),
        services: plan.services.map((sv) => ({
            name: sv.name,
            type: sv.type,
            clusterIp: liveOf(live.serviceClusterIps ?? {}, "ClusterIP", sv.name),
            ports: sv.ports,
            selector: Object.entries(sv.selector).map(([k, v]) => `${k}=${v}`).join(","),
            endpoints: sv.endpoints.map((e) => ({ pod: e.pod, node: e.node, ip: liveOf(live.podIps, "IP", e.pod) })),
        })),
        pendingPods: plan.pending.map((p) => ({ name: p.name, nodeName: p.nodeName, reason: p.reason })),
        diagram: live.diagram,
        renderedManifests: plan.renderDir,
    };
}

/** A pod's outputs that its runtime decides: the names its sandbox and containers go by, and its manifest. */
function podRuntimeOutputs(p: PodPlan): Pick<PodOutput, "sandbox" | "runtime" | "manifest" | "containers"> {
    const r = p.runtime;
    switch (r.kind) {
        case "docker":
            return { sandbox: p.sandbox, runtime: r.kind, containers: p.containers.map((c) => ({ name: c.name, container: c.container, image: c.image })) };
        case "kubelet":
            // containerd names a container after its spec (kubelet keeps the pod in the CRI's metadata).
            return { sandbox: r.staticPod.kubeletName, runtime: r.kind, manifest: r.staticPod.path,
                containers: p.containers.map((c) => ({ name: c.name, container: c.name, image: c.image })) };
        case "cluster":
            // The Pod object's own name; containerd names a container after its spec, as in kubelet mode.
            return { sandbox: r.object.metadata.name, runtime: r.kind,
                containers: p.containers.map((c) => ({ name: c.name, container: c.name, image: c.image })) };
        default: return assertNever(r);
    }
}

/** The lab's picture (the `diagram` output) with the pod IPs the nodes handed out. */
export function labDiagram(plan: LabPlan, ips: PodIps): string {
    return renderDiagram({ ...plan, nodes: plan.nodes.map((n) => ({ ...n, routes: peerRoutes(n) })) }, ips);
}
