import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PodSpec, toKubernetesPod } from "../plan/pods";
import { RENDERED_MANIFEST } from "./lifecycle";

export interface RenderedManifestsArgs {
    /** The pods to render, each with the node it is placed on (or, for a pending pod, the node it names). */
    readonly pods: readonly { readonly spec: PodSpec; readonly nodeName: string }[];
    /** Folder the manifests are written to (stack-scoped). */
    readonly directory: string;
}

/** The lab's pods as Kubernetes manifests, written by a render-only provider so they can be applied to a real cluster. */
export class RenderedManifests extends pulumi.ComponentResource {
    public readonly directory: string;

    constructor(name: string, args: RenderedManifestsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("podnet-lab:index:RenderedManifests", name, {}, opts);
        this.directory = args.directory;
        // deleteUnreachable: a render-only provider has no cluster, and its Read looks for one before it looks at
        // render mode, so `pulumi refresh` (and `up --refresh`) failed on every manifest ("cluster unreachable").
        // With it, a refresh drops the manifests from the state and the next `up` writes them again.
        // (skipUpdateUnreachable, the other way out, breaks the provider's render-mode create.)
        // kubeconfig "" (no cluster), explicitly: left unset, the SDK takes $KUBECONFIG, so a user who exported one (as
        // docs/cluster.md says, for kubectl) saw this provider "updated" by every preview.
        const provider = new k8s.Provider(`${name}-render`, { renderYamlToDirectory: args.directory, deleteUnreachable: true, kubeconfig: "" }, { parent: this });
        for (const pod of args.pods) {
            new k8s.core.v1.Pod(`${pod.spec.name}-manifest`, toKubernetesPod(pod.spec, pod.nodeName),
                { parent: this, provider, ...RENDERED_MANIFEST });
        }
        this.registerOutputs({ directory: this.directory });
    }
}
