import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DnsPlan } from "../plan/dns";
import { clusterObject } from "./lifecycle";

export interface ClusterDnsArgs {
    /** The objects, from plan/dns.ts. */
    readonly plan: DnsPlan;
    /** The cluster's own provider. */
    readonly provider: k8s.Provider;
    /** The control plane's container: the objects go with it. */
    readonly controlPlane: pulumi.Resource;
    /** What CoreDNS's pod needs first: the nodes joined (a node to run on, the image in its containerd). */
    readonly after: readonly pulumi.Resource[];
}

/**
 * The cluster DNS, as kubeadm's addon: CoreDNS's identity and its right to read Services and EndpointSlices, its
 * Corefile, one replica, and the kube-dns Service at the tenth address of the Service range. Applied by the cluster's
 * own provider, which waits until the Deployment is rolled out and the Service has its endpoint.
 */
export class ClusterDns extends pulumi.ComponentResource {
    constructor(name: string, args: ClusterDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("podnet-lab:index:ClusterDns", name, {}, opts);
        const o = (dependsOn: pulumi.Input<pulumi.Resource>[] = []) => ({ parent: this, provider: args.provider, ...clusterObject(args.controlPlane), dependsOn });
        const p = args.plan;
        const sa = new k8s.core.v1.ServiceAccount(`${name}-service-account`, p.serviceAccount as unknown as k8s.core.v1.ServiceAccountArgs, o());
        const role = new k8s.rbac.v1.ClusterRole(`${name}-cluster-role`, p.clusterRole as unknown as k8s.rbac.v1.ClusterRoleArgs, o());
        const binding = new k8s.rbac.v1.ClusterRoleBinding(`${name}-cluster-role-binding`, p.clusterRoleBinding as unknown as k8s.rbac.v1.ClusterRoleBindingArgs, o([role, sa]));
        const config = new k8s.core.v1.ConfigMap(`${name}-config`, p.configMap as unknown as k8s.core.v1.ConfigMapArgs, o());
        const deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, p.deployment as unknown as k8s.apps.v1.DeploymentArgs,
            o([sa, binding, config, ...args.after]));
        new k8s.core.v1.Service(`${name}-service`, p.service as unknown as k8s.core.v1.ServiceArgs, o([deployment]));
        this.registerOutputs({ ip: p.ip });
    }
}
