import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { cniCommand } from "../plan/commands";
import { NodePlan, PodPlan } from "../plan/plan";

export interface LabPodArgs {
    /** The pod's plan: node, IP, sandbox and container names, images. */
    readonly pod: PodPlan;
    /** The node it runs on. */
    readonly node: NodePlan;
    /** Provider for that node's inner Docker. */
    readonly provider: docker.Provider;
    /** Image id inside the node, by image reference. */
    readonly imageIds: Readonly<Record<string, pulumi.Output<string>>>;
    /** Image reference of the pause (sandbox) container, after substitution. */
    readonly pauseImage: string;
    /** The node's bridge set-up, which the CNI ADD needs. */
    readonly bridge: pulumi.Resource;
    /** Labels put on every container. */
    readonly labels: Readonly<Record<string, string>>;
}

export interface LabPodContainer { readonly name: string; readonly container: pulumi.Output<string>; readonly image: string; }

/** A pod as kubelet builds it: a pause container holding the network namespace, CNI ADD, then the apps joined to it. */
export class LabPod extends pulumi.ComponentResource {
    public readonly pause: docker.Container;
    /** The CNI ADD (create) and DEL (delete) of the wiring script. */
    public readonly network: command.local.Command;
    public readonly containers: LabPodContainer[];

    constructor(name: string, args: LabPodArgs, opts?: pulumi.ComponentResourceOptions) {
        super("podnet-lab:index:Pod", name, {}, opts);
        const { pod, node, provider } = args;
        const image = (ref: string) => {
            const id = args.imageIds[ref];
            if (!id) { throw new Error(`LabPod ${name}: image ${ref} is not available on ${node.name}`); }
            return id;
        };
        const labels = (container: string) => [
            ...Object.entries(args.labels).map(([label, value]) => ({ label, value })),
            { label: "io.kubernetes.pod.name", value: pod.name },
            { label: "io.kubernetes.container.name", value: container },
        ];

        this.pause = new docker.Container(`${name}-pause`, {
            name: pod.sandbox,
            hostname: pod.name,
            image: image(args.pauseImage),
            // The namespace starts empty (lo only); the CNI ADD gives it eth0.
            networkMode: "none",
            labels: labels("POD"),
            mustRun: true,
        }, { parent: this, provider });

        const cni = this.pause.id.apply((id) => cniCommand(node, pod, id));
        this.network = new command.local.Command(`${name}-net`, {
            create: cni.apply((c) => c.create),
            delete: cni.apply((c) => c.delete ?? ""),
        }, { parent: this.pause, dependsOn: [args.bridge] });

        this.containers = pod.containers.map((c) => {
            const container = new docker.Container(`${name}-${c.name}`, {
                name: c.container,
                image: image(c.runImage),
                // Docker stores the id here; giving the name would show a diff on every run.
                networkMode: pulumi.interpolate`container:${this.pause.id}`,
                ...(c.entrypoint ? { entrypoints: [...c.entrypoint] } : {}),
                ...(c.command ? { command: [...c.command] } : {}),
                ...(c.envs.length ? { envs: [...c.envs] } : {}),
                labels: labels(c.name),
                mustRun: true,
            }, { parent: this.pause, provider, dependsOn: [this.network] });
            return { name: c.name, container: container.name, image: c.image };
        });

        this.registerOutputs({ sandbox: this.pause.name, ip: pod.ip });
    }
}
