import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { bridgeCommand, cniConfigCommand, imagePullCommand, imagesImportCommand, imagesLoadCommand, kubeletReadyCommand, loadedImageId, nodeReadyCommand, routesCommand, vxlanCommand, vxlanPeersCommand } from "../plan/commands";
import { NodeSecurity, PodNetwork } from "../plan/config";
import { NodeInitUpload } from "../plan/load";
import { NODE_VOLUMES } from "../plan/node-contract";
import { ImagePlan, NodePlan } from "../plan/plan";
import { assertNever } from "../plan/errors";
import { NodeRuntime, RUNTIMES } from "../plan/runtimes";
import { joinCommand } from "../plan/runtimes/cluster";
import type { ControlPlane } from "./control-plane";
import { insideNode, joinsCluster, nodeConfigFile, nodeTable, nodeWithScripts, readsNode } from "./lifecycle";

/**
 * Flags for hosts that refuse --privileged (see docs/configuration.md): all capabilities but CAP_SYS_RESOURCE, no AppArmor or
 * seccomp confinement, the host's cgroup namespace. Not `systempaths=unconfined`: the docker CLI turns that into
 * empty masked/readonly paths itself, the Engine API refuses it as a security option, and the provider passes
 * security options to the API as they are. Nested containers run without it; ip_forward is set by `sysctls`.
 */
export const CAPABILITIES_MODE = {
    adds: ["ALL"],
    // As Docker reports it back ("SYS_RESOURCE" would read back as "CAP_SYS_RESOURCE": a refresh would see drift
    // and the next `up` would replace every node).
    drops: ["CAP_SYS_RESOURCE"],
    securityOpts: ["apparmor=unconfined", "seccomp=unconfined"],
    cgroupnsMode: "host",
} as const;

export interface LabNodeArgs {
    /** This node's plan (names, addresses, subnet, routes). */
    readonly node: NodePlan;
    /** Cluster pod range, for the bridge's forwarding and masquerade rules. */
    readonly clusterCidr: string;
    /** The host Docker network that is the LAN: its name, and its id once created. */
    readonly lan: { readonly name: string; readonly id: pulumi.Input<string> };
    /** Node image (id or name) on the host. */
    readonly image: pulumi.Input<string>;
    /** privileged or capabilities. */
    readonly security: NodeSecurity;
    /** lab (routes), vxlan (an overlay device and its peers) or docker0 (no lab bridge, no routes). */
    readonly podNetwork: PodNetwork;
    /** The node init (all node/bin/* scripts in one file, which installs them in /usr/local/bin), by reference. */
    readonly init: NodeInitUpload;
    /** Labels put on every host-side object (the lab's instance is known once the lab has made it). */
    readonly labels: Readonly<Record<string, pulumi.Input<string>>>;
    /** Images the node's pods run. */
    readonly images: readonly ImagePlan[];
    /** Host-side image resources to load into the node (preloading); absent: the node pulls them itself. */
    readonly hostImages?: Readonly<Record<string, docker.RemoteImage>>;
    /**
     * Who builds the pods on it, and the pause image their sandboxes start from. Kubelet mode: the node also runs
     * containerd (CRI) and kubelet (RUNTIMES[kind].nodeSettings, kubeletOnNode).
     */
    readonly runtime: NodeRuntime;
    /** Cluster mode: the control plane the node's kubelet joins (its identity signed by the lab CA, its Node declared). */
    readonly controlPlane?: ControlPlane;
    /** The hook that removes what an interrupted `up` left under the node container's name, before it is created. */
    readonly leftovers: pulumi.ResourceHook;
}

/** An image inside a node: the Command that put it there, and its id inside the node. */
export interface NodeImage { readonly step: command.local.Command; readonly id: pulumi.Output<string>; }

/** One Docker-in-Docker node: its container, bridge, routes and images. Pods reach it with `docker exec`. */
export class LabNode extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    /** The node's inner dockerd answers. */
    public readonly ready: command.local.Command;
    /** The node's kubelet is up: kubelet mode, its /healthz answers; cluster mode, it joined and its Node is Ready (absent in docker mode). */
    public readonly kubelet?: command.local.Command;
    /** The step pods are wired after: the bridge set-up, or (docker0, no lab bridge) the readiness wait. */
    public readonly podNetworkReady: command.local.Command;
    /** The node's CNI configuration, /etc/cni/net.d/10-podnet.conflist (absent under docker0). */
    public readonly cniConfig?: command.local.Command;
    /** Routed model: the node's routes to its peers, one table (absent otherwise). */
    public readonly routes?: command.local.Command;
    /** Overlay model: the VXLAN device, and under it the node's peers (route, neighbour, FDB each), one table. */
    public readonly vxlan?: command.local.Command;
    public readonly vxlanPeers?: command.local.Command;
    /** Images inside the node, by image reference. */
    public readonly images: Readonly<Record<string, NodeImage>>;

    constructor(name: string, args: LabNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("podnet-lab:index:Node", name, {}, opts);
        const { node } = args;
        if (args.hostImages) {
            const missing = args.images.filter((im) => !args.hostImages?.[im.ref]);
            if (missing.length) { throw new Error(`LabNode ${name}: no host image for ${missing.map((m) => m.ref).join(", ")}`); }
        }
        const labels = Object.entries(args.labels).map(([label, value]) => ({ label, value }));
        const caps = args.security === "capabilities";
        const runtime = RUNTIMES[args.runtime.kind];
        // What the runtime adds to a Docker-in-Docker node (kubelet mode: containerd and kubelet need an init, /dev/kmsg, ...).
        const extra = runtime.nodeSettings(args.runtime.sandboxImage);

        this.container = new docker.Container(`${name}-container`, {
            name: node.container,
            hostname: node.name,
            image: args.image,
            // PID 1 installs the node scripts (one upload, below), then runs podnet-node-entrypoint.
            entrypoints: [args.init.file],
            networksAdvanced: [{ name: args.lan.name, ipv4Address: node.lanIp }],
            // The node's state lives in anonymous volumes: kept across restarts of the node container, removed with
            // it (the provider's remove_volumes), so a re-created node starts clean and destroy waits for nothing.
            volumes: [
                { containerPath: NODE_VOLUMES.docker },
                // The IPAM records (host-local): a pod keeps its address across node restarts.
                { containerPath: NODE_VOLUMES.cni },
                // Without it, inner containers fail: "mkdir /sys/fs/cgroup/cpuset/docker: read-only file system".
                ...(caps ? [{ hostPath: "/sys/fs/cgroup", containerPath: "/sys/fs/cgroup" }] : []),
                ...(extra ? extra.volumes : []),
            ],
            ...(extra ? { init: extra.init, devices: [...extra.devices], tmpfs: extra.tmpfs, envs: [...extra.envs] } : {}),
            // Routing pods is the node's job; /proc/sys is read-only in capabilities mode, so set it at creation.
            sysctls: { "net.ipv4.ip_forward": "1" },
            uploads: [{ file: args.init.file, source: args.init.source, sourceHash: args.init.sourceHash, executable: true }],
            // The LAN's id: a re-created LAN re-creates the nodes attached to it (its name alone would not change).
            labels: [...labels, { label: "podnet-lab.lan", value: args.lan.id }],
            mustRun: true,
            // Back by itself after the host's Docker engine restarts; its agent re-applies the rest.
            restart: "unless-stopped",
            ...(caps
                ? {
                    capabilities: { adds: [...CAPABILITIES_MODE.adds], drops: [...CAPABILITIES_MODE.drops] },
                    securityOpts: [...CAPABILITIES_MODE.securityOpts],
                    cgroupnsMode: CAPABILITIES_MODE.cgroupnsMode,
                }
                : { privileged: true }),
        }, { parent: this, ...nodeWithScripts(args.leftovers) });

        // Re-run node-side steps whenever the node container is replaced.
        const triggers = [this.container.id];
        // Also installs the lab's current node scripts in place when they changed (plan/node-init.ts withCurrentInit).
        this.ready = new command.local.Command(`${name}-ready`, { ...nodeReadyCommand(node, args.init), triggers },
            { parent: this, dependsOn: [this.container], ...readsNode(this.container) });

        // Under docker0 (the "before" state) there is no lab bridge and no route: that is the point.
        this.podNetworkReady = args.podNetwork === "docker0" ? this.ready
            : new command.local.Command(`${name}-bridge`, { ...bridgeCommand(node, args.clusterCidr), triggers },
                { parent: this, dependsOn: [this.ready], ...insideNode(this.container) });
        // The CNI configuration a real node keeps in /etc/cni/net.d; the preview shows its content (the command's stdin).
        this.cniConfig = node.cni && new command.local.Command(node.cni.resourceName, { ...cniConfigCommand(node, node.cni), triggers },
            { parent: this, dependsOn: [this.ready], ...nodeConfigFile(this.container) });

        // The node's kubelet: standalone, waited for; registered with the control plane (cluster mode), joined and
        // waited for until its Node is Ready (which takes the CNI configuration); none in docker mode.
        const kind = args.runtime.kind;
        switch (kind) {
            case "docker": this.kubelet = undefined; break;
            case "kubelet":
                this.kubelet = new command.local.Command(`${name}-kubelet`, { ...kubeletReadyCommand(node), triggers },
                    { parent: this, dependsOn: [this.ready], ...readsNode(this.container) });
                break;
            case "cluster": {
                const cp = args.controlPlane;
                if (!cp) { throw new Error(`LabNode ${name}: cluster mode needs the control plane to join`); }
                this.kubelet = new command.local.Command(`${name}-join`, {
                    ...joinCommand(node, cp.plan),
                    // A new node, or a new control plane (a new CA), joins again.
                    triggers: [this.container.id, cp.container.id],
                }, {
                    parent: this, ...joinsCluster(cp.container),
                    dependsOn: [this.ready, cp.ready, this.podNetworkReady, ...(this.cniConfig ? [this.cniConfig] : [])],
                });
                break;
            }
            default: assertNever(kind);
        }
        // Routed model: the node's routes, one table (one resource per node, whatever the number of peers).
        this.routes = node.routesResourceName === undefined ? undefined
            : new command.local.Command(node.routesResourceName, { ...routesCommand(node), triggers },
                { parent: this, dependsOn: [this.ready], ...nodeTable(this.container) });
        // The overlay: the device, then its peers, one table (a child of the device in the tree: deleted before it).
        const v = node.vxlan;
        const device = v && new command.local.Command(v.resourceName, { ...vxlanCommand(node, v), triggers },
            { parent: this, dependsOn: [this.ready], ...insideNode(this.container) });
        this.vxlan = device;
        this.vxlanPeers = v && device ? new command.local.Command(v.peersResourceName, { ...vxlanPeersCommand(node, v), triggers },
            { parent: device, dependsOn: [device], ...nodeTable(this.container) }) : undefined;

        const images: Record<string, NodeImage> = {};
        const hostImages = args.hostImages;
        if (hostImages) {
            // Preloading: every image in one transfer per node (kubelet mode: into containerd, where the CRI looks).
            // It runs again when the node or any image changes.
            const refs = args.images.map((im) => im.ref);
            const step = new command.local.Command(`${name}-images`, {
                ...(runtime.kubeletOnNode ? imagesImportCommand(node, refs) : imagesLoadCommand(node, refs)),
                triggers: [this.container.id, ...refs.map((r) => hostImages[r].imageId)],
            }, { parent: this, dependsOn: [this.kubelet ?? this.ready, ...refs.map((r) => hostImages[r])], ...readsNode(this.container) });
            refs.forEach((ref, i) => { images[ref] = { step, id: step.stdout.apply((out) => loadedImageId(out, i, ref)) }; });
        } else if (!runtime.kubeletOnNode) {
            // Pulling (kubelet mode: kubelet pulls what its pods need through the CRI): one pull per image, so a pod starts as soon as its own images are in.
            for (const im of args.images) {
                const step = new command.local.Command(`${name}-pull-${im.key}`, { ...imagePullCommand(node, im.ref), triggers },
                    { parent: this, dependsOn: [this.ready], ...readsNode(this.container) });
                images[im.ref] = { step, id: step.stdout };
            }
        }
        this.images = images;

        this.registerOutputs({ container: this.container.name });
    }
}
