import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { instanceCommand, lanCommand } from "../plan/commands";
import { NodeInitUpload } from "../plan/load";
import { labDiagram, LabOutputs, labOutputs } from "../plan/outputs";
import { INSTANCE_ENV, LABEL_INSTANCE, LabPlan } from "../plan/plan";
import { nodesCommand } from "../plan/runtimes/cluster";
import { clusterObject, INSTANCE, joinsCluster, LAN, leftoverContainerHook, nodeContainer } from "./lifecycle";
import { ClusterDns } from "./cluster-dns";
import { ControlPlane } from "./control-plane";
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

/** The lab: LAN, node image, nodes (bridge, routes, pods) and rendered manifests. */
export class PodnetLab extends pulumi.ComponentResource {
    public readonly outputs: LabOutputs<pulumi.Output<string>>;

    constructor(name: string, args: PodnetLabArgs, opts?: pulumi.ComponentResourceOptions) {
        super("podnet-lab:index:Lab", name, {}, opts);
        const { plan } = args;

        // This lab's identity on the host, made once (LABEL_INSTANCE): what an interrupted up left is told apart from
        // another checkout's lab of the same stack name by it.
        const instance = new command.local.Command("instance", instanceCommand(), { parent: this, ...INSTANCE });
        const labels = { ...plan.labels, [LABEL_INSTANCE]: instance.stdout };
        const lan = new command.local.Command("lan", { ...lanCommand(plan.lan, plan.labels), environment: { [INSTANCE_ENV]: instance.stdout } },
            { parent: this, ...LAN });

        let nodeImage: pulumi.Output<string>;
        if (plan.nodeImage.kind === "build") {
            const built = new docker.Image("node-image", {
                imageName: plan.nodeImage.name,
                // Only the stage the pod runtime needs (docker mode's downloads no kubelet).
                build: { context: path.join(args.root, plan.nodeImage.context), target: plan.nodeImage.target },
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

        // Before the engine creates a container of the lab, what an interrupted `up` left under its name goes.
        const leftovers = leftoverContainerHook();

        // The outside host: a web server on the LAN standing in for the internet (the cockpit's matrix probes it).
        const outsideImage = hostImages?.[plan.outside.image.ref]
            ?? new docker.RemoteImage(`image-${plan.outside.image.key}`, { name: plan.outside.image.ref, keepLocally: true }, { parent: this });
        const outside = new docker.Container("outside", {
            name: plan.outside.container,
            hostname: plan.outside.name,
            image: outsideImage.imageId,
            networksAdvanced: [{ name: plan.lan.network, ipv4Address: plan.outside.ip }],
            labels: [...Object.entries(labels).map(([label, value]) => ({ label, value })), { label: "podnet-lab.lan", value: lan.stdout }],
            restart: "unless-stopped",
            mustRun: true,
        }, { parent: this, ...nodeContainer(leftovers) });

        // Cluster mode: the control plane on the LAN, first; the nodes join it, and its provider applies the pods.
        const controlPlane = plan.controlPlane && new ControlPlane("control-plane", {
            plan: plan.controlPlane,
            lan: { name: plan.lan.network, id: lan.stdout },
            image: nodeImage,
            init: args.nodeInit,
            labels,
            leftovers,
        }, { parent: this });

        const nodes = plan.nodes.map((n) => new LabNode(n.name, {
            node: n,
            clusterCidr: plan.clusterCidr,
            lan: { name: plan.lan.network, id: lan.stdout },
            image: nodeImage,
            security: plan.security,
            podNetwork: plan.podNetwork,
            init: args.nodeInit,
            labels,
            images: plan.images,
            hostImages,
            leftovers,
            runtime: { kind: plan.podRuntime, sandboxImage: plan.pauseImage.ref },
            controlPlane,
        }, { parent: this }));

        // Cluster mode: the API server's Nodes are the lab's (a node that left the lab is taken out), once every node joined.
        if (controlPlane) {
            new command.local.Command("control-plane-nodes", { ...nodesCommand(controlPlane.plan, plan.nodes.map((n) => n.name)), triggers: [controlPlane.container.id] },
                { parent: controlPlane, dependsOn: nodes.flatMap((n) => (n.kubelet ? [n.kubelet] : [])), ...joinsCluster(controlPlane.container) });
        }

        const pods = plan.pods.map((p) => {
            const i = plan.nodes.findIndex((n) => n.name === p.node);
            return new LabPod(p.name, {
                pod: p,
                node: plan.nodes[i],
                on: nodes[i],
                pauseImage: plan.pauseImage.ref,
                labels: plan.labels,
                podNetwork: plan.podNetwork,
                controlPlane,
            }, { parent: nodes[i] });
        });
        for (const p of plan.pending) {
            pulumi.log.warn(`pod ${p.name} is Pending (not run): ${p.reason}`, this);
        }
        const ips = Object.fromEntries(plan.pods.map((p, i) => [p.name, pods[i].ip]));

        // Cluster mode: the cluster DNS (CoreDNS behind kube-dns), once the nodes have joined.
        if (controlPlane && plan.dns) {
            new ClusterDns("cluster-dns", { plan: plan.dns, provider: controlPlane.provider, controlPlane: controlPlane.container,
                after: nodes.flatMap((n) => (n.kubelet ? [n.kubelet] : [])) }, { parent: this });
        }

        // Cluster mode: the Services of the pod folder, applied by the cluster's own provider; every node's kube-proxy
        // turns each into its iptables rules. Each waits for the pods it picks (the provider then waits until it has
        // endpoints). Like the pods, deleted with the control plane.
        const services = controlPlane ? plan.services.map((sv) => new k8s.core.v1.Service(sv.resourceName, sv.object as unknown as k8s.core.v1.ServiceArgs, {
            parent: this, provider: controlPlane.provider, ...clusterObject(controlPlane.container),
            dependsOn: sv.endpoints.flatMap((e) => pods[plan.pods.findIndex((p) => p.name === e.pod)]?.object ?? []),
        })) : [];
        for (const name of plan.servicesWithoutEndpoints) {
            pulumi.log.warn(`Service ${name} picks no running pod: it has a ClusterIP and no endpoint (check its spec.selector against the pods' metadata.labels)`, this);
        }
        if (plan.servicesNotApplied.length) {
            pulumi.log.info(`Service(s) ${plan.servicesNotApplied.join(", ")} in the pod folder not applied: Services need podRuntime cluster, where each node runs kube-proxy`, this);
        }

        new RenderedManifests("manifests", {
            pods: [...plan.pods.map((p) => ({ spec: p.source, nodeName: p.node })),
                ...plan.pending.map((p) => ({ spec: p.source, nodeName: p.nodeName }))],
            directory: path.join(args.root, plan.renderDir),
        }, { parent: this });

        // The outputs come from the plan (plan/outputs.ts); what only the running lab knows comes from the resources.
        this.outputs = labOutputs<pulumi.Output<string>>(plan, {
            podIps: ips,
            nodeContainers: Object.fromEntries(plan.nodes.map((n, i) => [n.name, nodes[i].container.name])),
            outsideContainer: outside.name,
            ...(controlPlane ? { controlPlaneContainer: controlPlane.container.name, kubeconfig: controlPlane.kubeconfig } : {}),
            serviceClusterIps: Object.fromEntries(plan.services.map((sv, i) => [sv.name, services[i].spec.clusterIP])),
            diagram: pulumi.all(ips).apply((live) => labDiagram(plan, live)),
        });
        this.registerOutputs({ ...this.outputs });
    }
}
