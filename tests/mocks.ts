import { createHash } from "node:crypto";
// Recording Pulumi mocks: every newResource is recorded; an unknown resource type or call throws.
import * as pulumi from "@pulumi/pulumi";

export interface Recorded {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
    readonly provider?: string;
    readonly id: string;
}

/**
 * What a Command prints, by its role: a sandbox's container id, an image id, or a CNI ADD result whose IP a
 * tiny host-local stand-in hands out from the subnet of the node's conflist (the stdin of its `podnet-cni CONFIG`
 * command, recorded before), from .2 up, in the order the ADDs arrive.
 */
function commandStdout(r: Omit<Recorded, "id">, next: Map<string, number>, recorded: readonly Recorded[]): string {
    // The runtime's ADD: podnet-cni's (docker mode), or containerd's for a static pod (kubelet mode).
    const add = /^docker exec (\S+) podnet-cni ADD (\S+) (\S+)$/.exec(String(r.inputs.create ?? ""))
        ?? /^docker exec -i (\S+) podnet-kubelet pod add (\S+) (\S+)$/.exec(String(r.inputs.create ?? ""));
    if (add) {
        const config = recorded.find((c) => c.inputs.create === `docker exec -i ${add[1]} podnet-cni CONFIG`);
        if (!config) { throw new Error(`mocks: ${r.name}: CNI ADD on ${add[1]}, which has no network configuration yet`); }
        const range = JSON.parse(config.inputs.stdin).plugins[0].ipam.ranges[0][0] as { subnet: string; gateway: string };
        const [net, prefix] = range.subnet.split("/");
        const base = net.split(".").slice(0, 3).join(".");
        const host = (next.get(base) ?? 1) + 1;
        next.set(base, host);
        return JSON.stringify({ cniVersion: "1.0.0", ips: [{ address: `${base}.${host}/${prefix}`, gateway: range.gateway, interface: 2 }] });
    }
    const docker0 = /podnet-cni DOCKER0 (\S+)/.exec(String(r.inputs.create ?? ""));
    if (docker0) {
        const host = (next.get("docker0") ?? 1) + 1;   // each node's Docker hands out the same range
        next.set("docker0", host);
        return JSON.stringify({ cniVersion: "1.0.0", ips: [{ address: `172.17.0.${host}/16`, gateway: "172.17.0.1", interface: 0 }] });
    }
    if (r.name.endsWith("-pause")) { return `sandbox-id-of-${r.name.slice(0, -"-pause".length)}`; }
    if (/-pull-/.test(r.name)) { return `sha256:loaded-by-${r.name}`; }
    if (r.name.endsWith("-kubelet")) { return `${r.name.slice(0, -"-kubelet".length)}: kubelet v1.34.0 is running`; }
    const load = /^docker save (.*?) \| docker exec/.exec(String(r.inputs.create ?? ""));
    if (load && r.name.endsWith("-images")) {
        // One id per image, in order; a recognisable fake sha256 made from the node and the reference.
        return load[1].split(" ").map((ref) => `sha256:${createHash("sha256").update(`${r.name} ${ref}`).digest("hex")}`).join("\n") + "\n";
    }
    if (/-join$/.test(r.name)) { return `${r.name.slice(0, -"-join".length)}   Ready    <none>   1s    v1.34.0   192.168.1.11`; }
    if (r.name === "control-plane-kubeconfig") { return "apiVersion: v1\nkind: Config\n# the admin kubeconfig, client key inline\n"; }
    if (r.name === "lan") { return "the-lan-network-id"; }
    if (r.name === "instance") { return "0123456789abcdef"; }
    return "";
}

/** Returns plausible provider outputs for the types this program declares. */
const KNOWN: Record<string, (r: Omit<Recorded, "id">, next: Map<string, number>, recorded: readonly Recorded[]) => Record<string, any>> = {
    "podnet-lab:index:Lab": () => ({}),
    "podnet-lab:index:Node": () => ({}),
    "podnet-lab:index:Pod": () => ({}),
    "podnet-lab:index:RenderedManifests": () => ({}),
    "podnet-lab:index:ControlPlane": () => ({}),
    "docker:index/container:Container": () => ({}),
    "docker:index/image:Image": (r) => ({ imageName: r.inputs.imageName }),
    "docker:index/remoteImage:RemoteImage": (r) => ({ imageId: `sha256:host-${r.inputs.name}` }),
    "pulumi:providers:kubernetes": () => ({}),
    // A Pod applied to the lab's API server (cluster mode) is Ready with an IP from its node's subnet, as containerd's
    // CNI ADD would give it; a rendered one has no status.
    "kubernetes:core/v1:Pod": (r, next, recorded) => {
        const node = r.inputs.spec?.nodeName;
        if (!r.provider || !/control-plane-provider/.test(r.provider) || !node) { return {}; }
        const config = recorded.find((c) => new RegExp(`^docker exec -i \\S+-${node} podnet-cni CONFIG$`).test(String(c.inputs.create ?? "")));
        if (!config) { throw new Error(`mocks: ${r.name}: Pod on ${node}, which has no network configuration yet`); }
        const range = JSON.parse(config.inputs.stdin).plugins[0].ipam.ranges[0][0] as { subnet: string };
        const base = range.subnet.split("/")[0].split(".").slice(0, 3).join(".");
        const host = (next.get(base) ?? 1) + 1;
        next.set(base, host);
        return { status: { phase: "Running", podIP: `${base}.${host}` } };
    },
    // A Service applied to the lab's API server gets a ClusterIP from the control plane's Service range (the API
    // server picks one at random past the first; here the next from .100, in order).
    "kubernetes:core/v1:Service": (r, next, recorded) => {
        const cp = recorded.find((c) => c.type === "docker:index/container:Container" && /control-plane-container$/.test(c.name));
        const env = (cp?.inputs.envs as string[] | undefined)?.find((e) => e.startsWith("PODNET_SERVICE_CIDR="));
        if (!env) { throw new Error(`mocks: ${r.name}: Service without a control plane that has a Service range`); }
        const base = env.split("=")[1].split("/")[0].split(".").slice(0, 3).join(".");
        const n = (next.get(`svc ${base}`) ?? 99) + 1;
        next.set(`svc ${base}`, n);
        return { spec: { ...r.inputs.spec, clusterIP: r.inputs.spec?.clusterIP ?? `${base}.${n}` } };
    },
    "podnet-lab:index:ClusterDns": () => ({}),
    "kubernetes:core/v1:ServiceAccount": () => ({}),
    "kubernetes:core/v1:ConfigMap": () => ({}),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": () => ({}),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": () => ({}),
    "kubernetes:apps/v1:Deployment": () => ({}),
    "command:local:Command": (r, next, recorded) => ({ stdout: commandStdout(r, next, recorded), stderr: "" }),
};

export class RecordingMocks implements pulumi.runtime.Mocks {
    public readonly resources: Recorded[] = [];
    private readonly nextHost = new Map<string, number>();

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, any> } {
        const extra = KNOWN[args.type];
        if (!extra) { throw new Error(`mocks: unexpected resource type ${args.type} (${args.name})`); }
        const id = `${args.name}-id`;
        const rec = { type: args.type, name: args.name, inputs: args.inputs, provider: args.provider, id };
        this.resources.push(rec);
        return { id: args.custom === false ? undefined : id, state: { ...args.inputs, ...extra(rec, this.nextHost, this.resources) } };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        throw new Error(`mocks: unexpected call ${args.token}`);
    }

    ofType(type: string): Recorded[] { return this.resources.filter((r) => r.type === type); }
    named(name: string): Recorded {
        const found = this.resources.filter((r) => r.name === name);
        if (found.length !== 1) { throw new Error(`mocks: ${found.length} resources named ${name}`); }
        return found[0];
    }
}
