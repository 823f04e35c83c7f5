// Services (cluster mode): the Service documents beside the pods -> the Service objects the Kubernetes provider
// applies, and what each one picks. Pure: the ClusterIP is the API server's to allocate (live); the node ports,
// when a document names none, are picked here, so that they are known at preview and stay put across `up`s.
import { Problems } from "./errors";
import { NODE_PORT_RANGE, PodSpec, Protocol, ServiceSpec, ServiceType } from "./pods";

export interface ServicePortPlan {
    readonly name?: string;
    readonly port: number;
    readonly targetPort: number;
    /** NodePort Services: the port on every node's LAN address. */
    readonly nodePort?: number;
    readonly protocol: Protocol;
}
export interface ServicePlan {
    readonly name: string;
    /** Resource name: web-service. */
    readonly resourceName: string;
    readonly type: ServiceType;
    readonly selector: Readonly<Record<string, string>>;
    readonly ports: readonly ServicePortPlan[];
    /** The running pods its selector picks, in the lab's order: its endpoints (each pod's IP is live). */
    readonly endpoints: readonly { readonly pod: string; readonly node: string }[];
    /** The Service as the API server gets it. */
    readonly object: ServiceObject;
}
export interface ServiceObject {
    readonly apiVersion: "v1";
    readonly kind: "Service";
    readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>>; readonly annotations?: Readonly<Record<string, string>> };
    readonly spec: {
        readonly type: ServiceType;
        readonly selector: Readonly<Record<string, string>>;
        readonly ports: readonly { readonly name?: string; readonly port: number; readonly targetPort: number; readonly nodePort?: number; readonly protocol: Protocol }[];
    };
}

/** Whether a pod's labels hold every key and value of a selector (Kubernetes' equality-based selector). */
export function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
    const keys = Object.keys(selector);
    return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

/**
 * The NodePort Services' ports that name no node port get the lowest free one of the range, in the order of the
 * documents (so the same documents always give the same ports).
 */
function assignNodePorts(specs: readonly ServiceSpec[], problems: Problems): Map<string, (number | undefined)[]> {
    const taken = new Set(specs.flatMap((s) => s.ports.flatMap((p) => (p.nodePort === undefined ? [] : [p.nodePort]))));
    let next: number = NODE_PORT_RANGE.min;
    const out = new Map<string, (number | undefined)[]>();
    for (const s of specs) {
        out.set(s.name, s.ports.map((p) => {
            if (s.type !== "NodePort" || p.nodePort !== undefined) { return p.nodePort; }
            while (taken.has(next) && next <= NODE_PORT_RANGE.max) { next++; }
            if (next > NODE_PORT_RANGE.max) { problems.add(`${s.source}: no node port is left in ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max} for Service '${s.name}'`); return undefined; }
            taken.add(next);
            return next;
        }));
    }
    return out;
}

/**
 * Plans the Services. `running`: the pods the lab runs, with their nodes. A Service whose selector picks no running
 * pod is kept (it has a ClusterIP, and no endpoint): `noEndpoints` names it, for a warning.
 */
export function planServices(specs: readonly ServiceSpec[], running: readonly { readonly spec: PodSpec; readonly node: string }[]):
    { services: ServicePlan[]; noEndpoints: string[]; problems: Problems } {
    const problems = new Problems();
    const nodePorts = assignNodePorts(specs, problems);
    const services = specs.map((s): ServicePlan => {
        const ports = s.ports.map((p, i) => {
            const nodePort = nodePorts.get(s.name)?.[i];
            return { ...(p.name !== undefined ? { name: p.name } : {}), port: p.port, targetPort: p.targetPort, ...(nodePort !== undefined ? { nodePort } : {}), protocol: p.protocol };
        });
        const endpoints = running.filter((r) => selects(s.selector, r.spec.labels)).map((r) => ({ pod: r.spec.name, node: r.node }));
        return {
            name: s.name,
            resourceName: `${s.name}-service`,
            type: s.type,
            selector: s.selector,
            ports,
            endpoints,
            object: {
                apiVersion: "v1",
                kind: "Service",
                metadata: {
                    name: s.name, namespace: "default", labels: { "podnet-lab/runtime": "cluster" },
                    // The provider waits until a Service has endpoints; one that picks no pod never will.
                    ...(endpoints.length === 0 ? { annotations: { "pulumi.com/skipAwait": "true" } } : {}),
                },
                spec: { type: s.type, selector: { ...s.selector }, ports },
            },
        };
    });
    return { services, noEndpoints: services.filter((s) => s.endpoints.length === 0).map((s) => s.name), problems };
}
