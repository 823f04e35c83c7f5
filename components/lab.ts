import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { lanCommand } from "../plan/commands";
import { renderDiagram } from "../plan/diagram";
import { NodeInitUpload } from "../plan/load";
import { LabPlan, peerRoutes } from "../plan/plan";
import { LAN, NODE_CONTAINER } from "./lifecycle";
import { RenderedManifests } from "./manifests";
import { LabNode } from "./node";
import { LabPod } from "./pod";

export interface PodnetLabArgs {
    /** The whole lab as plain values (plan/plan.ts). */
    readonly plan: LabPlan;
    /** The node init every node runs as PID 1 (it installs node/bin), written on the host (plan/load.ts writeNodeInit). */
    readonly nodeInit: NodeInitUpload;
    /** Project folder: the node image's build context and the rendered manifests live under it. */
    readonly root: string;
}

/** Stack outputs, a contract: scripts and tests read `pulumi stack output --json`. */
export interface LabOutputs {
    readonly lan: { network: string; cidr: string; gateway: string };
    /** The outside host on the LAN (a web server standing in for the internet). */
    readonly outside: { name: string; container: pulumi.Output<string>; ip: string };
    readonly clusterCidr: string;
    /** lab (the model, routed), vxlan (the model over an overlay) or docker0 (the "before" state). */
    readonly podNetwork: string;
    /** The CNI plugin every node's configuration names: podnet or bridge (absent under docker0: no CNI). */
    readonly cniPlugin?: string;
    /** Who builds the pods: docker (the lab's explicit steps through each node's Docker) or kubelet (a real kubelet). */
    readonly podRuntime: string;
    readonly nodes: {
        name: string; container: pulumi.Output<string>; lanIp: string; podCidr: string;
        bridge: string; bridgeIp: string;
        /**
         * How this node reaches each peer's pods. Routed: `via` the peer's LAN IP. Overlay: `via` the peer's VTEP on
         * the VXLAN device (`dev`), whose frames go in UDP to `remote`, the peer's LAN IP.
         */
        routes: { to: string; via: string; dev?: string; remote?: string }[];
        /** The overlay's VXLAN device (podNetwork vxlan only). */
        vxlan?: { device: string; vni: number; port: number; vtepIp: string; mac: string; mtu: number };
        /** MTU of this node's pods. */
        podMtu: number;
    }[];
    /** Running pods; `ip` is what the node's IPAM handed out at CNI ADD. */
    readonly pods: {
        name: string; node: string; ip: pulumi.Output<string>;
        /** Docker mode: the pause container's name in the node's Docker. Kubelet mode: the name kubelet gives the pod (POD-NODE). */
        sandbox: string;
        /** Who built it: docker or kubelet. */
        runtime: string;
        /** Kubelet mode: the static pod manifest on its node. */
        manifest?: string;
        containers: { name: string; container: string; image: string }[];
    }[];
    /** Pods not run, like Kubernetes' Pending: their spec.nodeName names no node of the lab. */
    readonly pendingPods: { name: string; nodeName: string; reason: string }[];
    readonly diagram: pulumi.Output<string>;
    readonly renderedManifests: string;
}

/** The lab: LAN, node image, nodes (bridge, routes, pods) and rendered manifests. */
export class PodnetLab extends pulumi.ComponentResource {
    public readonly outputs: LabOutputs;

    constructor(name: string, args: PodnetLabArgs, opts?: pulumi.ComponentResourceOptions) {
        super("podnet-lab:index:Lab", name, {}, opts);
        const { plan } = args;

        const lan = new command.local.Command("lan", lanCommand(plan.lan, plan.labels), { parent: this, ...LAN });

        let nodeImage: pulumi.Output<string>;
        if (plan.nodeImage.kind === "build") {
            const built = new docker.Image("node-image", {
                imageName: plan.nodeImage.name,
                build: { context: path.join(args.root, plan.nodeImage.context) },
                skipPush: true,
            }, { parent: this });
            nodeImage = built.imageName;
        } else {
            nodeImage = new docker.RemoteImage("node-image", { name: plan.nodeImage.ref, keepLocally: true }, { parent: this }).imageId;
        }

        const hostImages = plan.preloadImages
            ? Object.fromEntries(plan.images.map((im) => [im.ref,
                new docker.RemoteImage(`image-${im.key}`, { name: im.ref, keepLocally: true }, { parent: this })]))
            : undefined;

        // The outside host: a web server on the LAN standing in for the internet (the cockpit's matrix probes it).
        const outsideImage = hostImages?.[plan.outside.image.ref]
            ?? new docker.RemoteImage(`image-${plan.outside.image.key}`, { name: plan.outside.image.ref, keepLocally: true }, { parent: this });
        const outside = new docker.Container("outside", {
            name: plan.outside.container,
            hostname: plan.outside.name,
            image: outsideImage.imageId,
            networksAdvanced: [{ name: plan.lan.network, ipv4Address: plan.outside.ip }],
            labels: [...Object.entries(plan.labels).map(([label, value]) => ({ label, value })), { label: "podnet-lab.lan", value: lan.stdout }],
            restart: "unless-stopped",
            mustRun: true,
        }, { parent: this, ...NODE_CONTAINER });

        const nodes = plan.nodes.map((n) => new LabNode(n.name, {
            node: n,
            clusterCidr: plan.clusterCidr,
            lan: { name: plan.lan.network, id: lan.stdout },
            image: nodeImage,
            security: plan.security,
            podNetwork: plan.podNetwork,
            init: args.nodeInit,
            labels: plan.labels,
            images: plan.images,
            hostImages,
            ...(plan.podRuntime === "kubelet" ? { kubelet: { sandboxImage: plan.pauseImage.ref } } : {}),
        }, { parent: this }));

        const pods = plan.pods.map((p) => {
            const i = plan.nodes.findIndex((n) => n.name === p.node);
            return new LabPod(p.name, {
                pod: p,
                node: plan.nodes[i],
                on: nodes[i],
                pauseImage: plan.pauseImage.ref,
                labels: plan.labels,
                podNetwork: plan.podNetwork,
            }, { parent: nodes[i] });
        });
        for (const p of plan.pending) {
            pulumi.log.warn(`pod ${p.name} is Pending (not run): ${p.reason}`, this);
        }
        const ips = pulumi.all(Object.fromEntries(plan.pods.map((p, i) => [p.name, pods[i].ip])));

        const manifests = new RenderedManifests("manifests", {
            pods: [...plan.pods.map((p) => ({ spec: p.source, nodeName: p.node })),
                ...plan.pending.map((p) => ({ spec: p.source, nodeName: p.nodeName }))],
            directory: path.join(args.root, plan.renderDir),
        }, { parent: this });

        this.outputs = {
            lan: { network: plan.lan.network, cidr: plan.lan.cidr, gateway: plan.lan.gateway },
            outside: { name: plan.outside.name, container: outside.name, ip: plan.outside.ip },
            clusterCidr: plan.clusterCidr,
            podNetwork: plan.podNetwork,
            ...(plan.podNetwork === "docker0" ? {} : { cniPlugin: plan.cniPlugin }),
            podRuntime: plan.podRuntime,
            nodes: plan.nodes.map((n, i) => ({
                name: n.name,
                container: nodes[i].container.name,
                lanIp: n.lanIp,
                podCidr: n.podCidr,
                bridge: n.bridge,
                bridgeIp: n.bridgeIp,
                routes: peerRoutes(n),
                ...(n.vxlan ? { vxlan: { device: n.vxlan.device, vni: n.vxlan.vni, port: n.vxlan.port, vtepIp: n.vxlan.vtepIp, mac: n.vxlan.mac, mtu: n.vxlan.mtu } } : {}),
                podMtu: n.podMtu,
            })),
            pods: plan.pods.map((p, i) => ({
                name: p.name,
                node: p.node,
                ip: pods[i].ip,
                sandbox: p.staticPod ? p.staticPod.kubeletName : p.sandbox,
                runtime: plan.podRuntime,
                ...(p.staticPod ? { manifest: p.staticPod.path } : {}),
                containers: pods[i].containers.map((c) => ({ name: c.name, container: c.container, image: c.image })),
            })),
            pendingPods: plan.pending.map((p) => ({ name: p.name, nodeName: p.nodeName, reason: p.reason })),
            diagram: ips.apply((live) => renderDiagram({ ...plan, nodes: plan.nodes.map((n) => ({ ...n, routes: peerRoutes(n) })) }, live)),
            renderedManifests: path.relative(args.root, manifests.directory),
        };
        this.registerOutputs({ ...this.outputs });
    }
}
