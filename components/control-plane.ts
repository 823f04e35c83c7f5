import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { API_PORT, CONTROL_PLANE_ENV, CONTROL_PLANE_ROLE, CONTROL_PLANE_VOLUMES, ControlPlanePlan, controlPlaneReadyCommand, kubeconfigCommand } from "../plan/runtimes/cluster";
import { NodeInitUpload } from "../plan/load";
import { HOST_FILE, nodeWithScripts, readsNode } from "./lifecycle";

export interface ControlPlaneArgs {
    /** The control plane's plan: its name, LAN address, service range, published port, kubeconfig file. */
    readonly plan: ControlPlanePlan;
    /** The host Docker network that is the LAN: its name, and its id once created. */
    readonly lan: { readonly name: string; readonly id: pulumi.Input<string> };
    /** The node image (cluster mode's stage holds the control plane and etcd). */
    readonly image: pulumi.Input<string>;
    /** The node init: the control plane runs the same scripts (its entrypoint runs podnet-control-plane). */
    readonly init: NodeInitUpload;
    /** Labels put on every host-side object. */
    readonly labels: Readonly<Record<string, pulumi.Input<string>>>;
    /** The hook that removes what an interrupted `up` left under the container's name, before it is created. */
    readonly leftovers: pulumi.ResourceHook;
}

/**
 * The lab's control plane: one container on the LAN running etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler (node/bin/podnet-control-plane), its admin kubeconfig, and the Kubernetes provider built from it.
 * The provider is always this cluster's own: never the user's ~/.kube/config or current context.
 */
export class ControlPlane extends pulumi.ComponentResource {
    public readonly plan: ControlPlanePlan;
    public readonly container: docker.Container;
    /** The API server answers /readyz and the default service account exists. */
    public readonly ready: command.local.Command;
    /** The admin kubeconfig (a secret), as written to .lab/<stack>/kubeconfig. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** The Kubernetes provider for this cluster, configured explicitly with its kubeconfig. */
    public readonly provider: k8s.Provider;

    constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("podnet-lab:index:ControlPlane", name, {}, opts);
        const { plan } = args;
        this.plan = plan;
        const labels = Object.entries(args.labels).map(([label, value]) => ({ label, value }));

        this.container = new docker.Container(`${name}-container`, {
            name: plan.container,
            hostname: plan.name,
            image: args.image,
            entrypoints: [args.init.file],
            networksAdvanced: [{ name: args.lan.name, ipv4Address: plan.lanIp }],
            // The API server on the host's loopback only: kubectl and the provider reach it, nothing else does.
            ports: [{ internal: API_PORT, external: plan.hostPort, ip: "127.0.0.1" }],
            // etcd's data and the PKI: kept across restarts of the container, removed with it.
            volumes: [{ containerPath: CONTROL_PLANE_VOLUMES.etcd }, { containerPath: CONTROL_PLANE_VOLUMES.kubernetes }],
            envs: [`${CONTROL_PLANE_ENV.role}=${CONTROL_PLANE_ROLE}`, `${CONTROL_PLANE_ENV.advertiseIp}=${plan.lanIp}`, `${CONTROL_PLANE_ENV.serviceCidr}=${plan.serviceCidr}`],
            // The components are children of one shell each (restarted if they exit): an init reaps what they leave.
            init: true,
            uploads: [{ file: args.init.file, source: args.init.source, sourceHash: args.init.sourceHash, executable: true }],
            labels: [...labels, { label: "podnet-lab.lan", value: args.lan.id }],
            mustRun: true,
            restart: "unless-stopped",
            // No powers of its own (neither --privileged nor added capabilities): etcd and the control plane need none.
        }, { parent: this, ...nodeWithScripts(args.leftovers) });

        const triggers = [this.container.id];
        this.ready = new command.local.Command(`${name}-ready`, { ...controlPlaneReadyCommand(plan, args.init), triggers },
            { parent: this, dependsOn: [this.container], ...readsNode(this.container) });
        const kubeconfig = new command.local.Command(`${name}-kubeconfig`, { ...kubeconfigCommand(plan), triggers },
            { parent: this, dependsOn: [this.ready], additionalSecretOutputs: ["stdout"], ...HOST_FILE });
        this.kubeconfig = pulumi.secret(kubeconfig.stdout);
        // deleteUnreachable: a refresh that finds the cluster gone (the control plane container removed by hand) drops
        // its objects from the state instead of failing, so `pulumi up --refresh` can re-create the control plane and
        // then the pods (docs/healing.md; not measured here).
        this.provider = new k8s.Provider(`${name}-provider`, { kubeconfig: this.kubeconfig, deleteUnreachable: true }, { parent: this });
        this.registerOutputs({ container: this.container.name, server: plan.hostServer });
    }
}
