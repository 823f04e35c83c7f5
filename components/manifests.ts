import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PodPlan } from "../plan/plan";
import { toKubernetesPod } from "../plan/pods";

export interface RenderedManifestsArgs {
    /** The pods to render, as placed by the plan. */
    readonly pods: readonly PodPlan[];
    /** Folder the manifests are written to (stack-scoped). */
    readonly directory: string;
}

/** The lab's pods as Kubernetes manifests, written by a render-only provider so they can be applied to a real cluster. */
export class RenderedManifests extends pulumi.ComponentResource {
    public readonly directory: string;

    constructor(name: string, args: RenderedManifestsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("podnet-lab:index:RenderedManifests", name, {}, opts);
        this.directory = args.directory;
        const provider = new k8s.Provider(`${name}-render`, { renderYamlToDirectory: args.directory }, { parent: this });
        for (const pod of args.pods) {
            new k8s.core.v1.Pod(`${pod.name}-manifest`, toKubernetesPod(pod.source, pod.node), { parent: this, provider });
        }
        this.registerOutputs({ directory: this.directory });
    }
}
