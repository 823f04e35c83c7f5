import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appCommand, cniCommand, podIpFromCniResult, sandboxCommand, staticPodCommand } from "../plan/commands";
import { PodNetwork } from "../plan/config";
import { assertNever } from "../plan/errors";
import { NodePlan, PodPlan } from "../plan/plan";
import { ClusterPodPlan } from "../plan/runtimes/cluster";
import { StaticPodPlan } from "../plan/runtimes/kubelet";
import type { ControlPlane } from "./control-plane";
import { clusterObject, insideNode } from "./lifecycle";
import { LabNode } from "./node";

export interface LabPodArgs {
    /** The pod's plan: node, subnet, sandbox and container names, images, and what its runtime has of it. */
    readonly pod: PodPlan;
    /** The node it runs on, as planned. */
    readonly node: NodePlan;
    /** That node's resources: its container, bridge and images. */
    readonly on: LabNode;
    /** Image reference of the pause (sandbox) container, after substitution. */
    readonly pauseImage: string;
    /** Labels put on every container. */
    readonly labels: Readonly<Record<string, string>>;
    /** lab (the CNI wires the sandbox) or docker0 (Docker does, on the node's docker0). */
    readonly podNetwork: PodNetwork;
    /** Cluster mode: the control plane, whose Kubernetes provider applies the Pod object. */
    readonly controlPlane?: ControlPlane;
}

/** What a runtime's builder gives the pod: its IP once it has one, the outputs it registers, and its steps. */
interface Built {
    readonly ip: pulumi.Output<string>;
    /** The step that prints the pod's CNI result (docker and kubelet modes). */
    readonly network?: command.local.Command;
    readonly pause?: command.local.Command;
    /** Cluster mode: the Pod object. */
    readonly object?: k8s.core.v1.Pod;
    readonly outputs: Record<string, unknown>;
}

/**
 * A pod, built by its runtime (pod.runtime.kind). Docker mode: built as kubelet builds it, in the open, through the
 * node's own Docker: the pause container holding the network namespace, the CNI ADD (which hands out the pod IP),
 * then the app containers joined to the namespace. Kubelet mode: a static pod manifest on its node, which the node's
 * real kubelet builds the same way. Cluster mode: a Pod object in the lab's API server, which the node's kubelet,
 * registered there, builds the same way.
 */
export class LabPod extends pulumi.ComponentResource {
    /** Docker mode: `docker run` of the pause container; prints the sandbox's container id. */
    public readonly pause?: command.local.Command;
    /** The step that prints the pod's CNI result: the CNI ADD (docker mode), or the static pod (kubelet mode). */
    public readonly network?: command.local.Command;
    /** Cluster mode: the Pod object the Kubernetes provider applied. */
    public readonly object?: k8s.core.v1.Pod;
    /** The pod IP the node's IPAM gave it (unknown until the ADD has run). */
    public readonly ip: pulumi.Output<string>;

    constructor(name: string, args: LabPodArgs, opts?: pulumi.ComponentResourceOptions) {
        super("podnet-lab:index:Pod", name, {}, opts);
        const r = args.pod.runtime;
        let built: Built;
        switch (r.kind) {
            case "docker": built = this.dockerPod(name, args); break;
            case "kubelet": built = this.staticPod(args, r.staticPod); break;
            case "cluster": built = this.clusterPod(args, r); break;
            default: built = assertNever(r);
        }
        this.pause = built.pause;
        this.network = built.network;
        this.object = built.object;
        this.ip = built.ip;
        this.registerOutputs({ ...built.outputs, ip: this.ip });
    }

    /**
     * Cluster mode: the Pod object, applied to the lab's API server by its own Kubernetes provider, on the node the
     * lab placed it (spec.nodeName). The provider waits until the pod is Ready; its IP is the one the API server
     * reports (status.podIP), which containerd's CNI ADD handed out. `pulumi preview` shows the object's diff.
     */
    private clusterPod({ pod, on, controlPlane }: LabPodArgs, r: ClusterPodPlan): Built {
        if (!controlPlane) { throw new Error(`LabPod ${pod.name}: cluster mode needs the control plane`); }
        const images = pod.containers.map((c) => on.images[c.runImage]).filter((im) => im !== undefined);
        const object = new k8s.core.v1.Pod(r.resourceName, r.object as unknown as k8s.core.v1.PodArgs, {
            parent: this, provider: controlPlane.provider, ...clusterObject(controlPlane.container),
            // Its node has joined (its Node is Ready) and holds the pod's images.
            dependsOn: [...(on.kubelet ? [on.kubelet] : []), ...images.map((im) => im.step)],
        });
        return { object, ip: object.status.apply((st) => st?.podIP ?? ""), outputs: { object: r.object.metadata.name } };
    }

    /**
     * Kubelet mode: the manifest is the whole declaration; kubelet, containerd and the CNI do the rest. A changed
     * manifest or image, or a re-created node, replaces it: the old pod goes (CNI DEL) before the new one comes.
     */
    private staticPod({ pod, node, on }: LabPodArgs, sp: StaticPodPlan): Built {
        const images = pod.containers.map((c) => on.images[c.runImage]).filter((im) => im !== undefined);
        const network = new command.local.Command(sp.resourceName, {
            ...staticPodCommand(node, pod, sp),
            triggers: [on.container.id, ...images.map((im) => im.id)],
        }, {
            parent: this, ...insideNode(on.container),
            dependsOn: [on.podNetworkReady, ...(on.kubelet ? [on.kubelet] : []), ...(on.cniConfig ? [on.cniConfig] : []), ...images.map((im) => im.step)],
        });
        return { network, ip: network.stdout.apply(podIpFromCniResult), outputs: { manifest: sp.path } };
    }

    /** Docker mode: the pause container, the CNI ADD, then each app container joined to the sandbox's namespace. */
    private dockerPod(name: string, args: LabPodArgs): Built {
        const { pod, node, on } = args;
        const image = (ref: string) => {
            const im = on.images[ref];
            if (!im) { throw new Error(`LabPod ${name}: image ${ref} is not available on ${node.name}`); }
            return im;
        };
        const lifecycle = insideNode(on.container);
        const pauseImage = image(args.pauseImage);
        const pause = new command.local.Command(`${name}-pause`, {
            ...sandboxCommand(node, pod, args.pauseImage, args.labels, args.podNetwork),
            // A re-created node (after `pulumi up --refresh` found it gone) or a new pause image means a new sandbox.
            triggers: [on.container.id, pauseImage.id],
        }, { parent: this, dependsOn: [pauseImage.step], ...lifecycle });
        const sandboxId = pause.stdout;

        const cni = sandboxId.apply((id) => cniCommand(node, pod, id, args.podNetwork));
        const network = new command.local.Command(`${name}-net`, {
            create: cni.apply((c) => c.create),
            delete: cni.apply((c) => c.delete ?? ""),
            // A new network configuration (another plugin, MTU) wires the pod again: DEL by the plugins of its ADD
            // (podnet-cni keeps them in the CNI cache), then ADD by the new ones, as a new sandbox would get.
            triggers: [node.cni?.text ?? "docker0"],
        }, { parent: pause, dependsOn: [on.podNetworkReady, ...(on.cniConfig ? [on.cniConfig] : [])], ...lifecycle });

        for (const c of pod.containers) {
            const im = image(c.runImage);
            new command.local.Command(`${name}-${c.name}`, {
                ...appCommand(node, pod, c, args.labels),
                // Joined to one sandbox: a new sandbox (or a new image) means a new container.
                triggers: [sandboxId, im.id],
            }, { parent: pause, dependsOn: [network, im.step], ...lifecycle });
        }
        return { network, pause, ip: network.stdout.apply(podIpFromCniResult), outputs: { sandbox: pod.sandbox } };
    }
}
