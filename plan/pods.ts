// Kubernetes Pod manifests -> validated plain pod specs. Only the fields the lab can honour are accepted.
import type * as k8s from "@pulumi/kubernetes";
import * as yaml from "js-yaml";
import { Problems } from "./errors";
import { isImageRef } from "./image-ref";

export type Protocol = "TCP" | "UDP" | "SCTP";
export interface PodPort { readonly containerPort: number; readonly protocol: Protocol; }
export interface PodEnv { readonly name: string; readonly value: string; }
export interface PodContainer {
    readonly name: string;
    readonly image: string;
    /** Kubernetes `command`: replaces the image's ENTRYPOINT. */
    readonly command?: readonly string[];
    /** Kubernetes `args`: replaces the image's CMD. */
    readonly args?: readonly string[];
    readonly env: readonly PodEnv[];
    readonly ports: readonly PodPort[];
}
export interface PodSpec {
    readonly name: string;
    /** metadata.labels: what a Service's selector picks pods by (cluster mode puts them on the Pod object). */
    readonly labels: Readonly<Record<string, string>>;
    readonly nodeName?: string;
    readonly containers: readonly PodContainer[];
    /** The manifest file it came from, for error messages. */
    readonly source: string;
}
export interface ManifestFile { readonly path: string; readonly text: string; }

/** The Service types the lab's kube-proxy serves. */
export const SERVICE_TYPES = ["ClusterIP", "NodePort"] as const;
export type ServiceType = typeof SERVICE_TYPES[number];
/** kube-apiserver's default --service-node-port-range. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;
export interface ServicePortSpec {
    readonly name?: string;
    readonly port: number;
    /** The pods' port (a number; the lab does not resolve named ports): `port` when not given. */
    readonly targetPort: number;
    /** NodePort Services: the port on every node's LAN address; the API server picks one when not given. */
    readonly nodePort?: number;
    readonly protocol: Protocol;
}
/** A Service document beside the pods: a virtual IP (and, for NodePort, a port on every node) in front of the pods its selector picks. */
export interface ServiceSpec {
    readonly name: string;
    readonly type: ServiceType;
    readonly selector: Readonly<Record<string, string>>;
    readonly ports: readonly ServicePortSpec[];
    /** The manifest file it came from, for error messages. */
    readonly source: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const ALLOWED = {
    top: ["apiVersion", "kind", "metadata", "spec"],
    metadata: ["name", "labels"],
    serviceMetadata: ["name"],
    serviceSpec: ["type", "selector", "ports"],
    servicePort: ["name", "port", "targetPort", "nodePort", "protocol"],
    spec: ["nodeName", "containers"],
    container: ["name", "image", "command", "args", "env", "ports"],
    env: ["name", "value"],
    port: ["containerPort", "protocol"],
};

export function isDns1123Label(s: string): boolean { return s.length <= 63 && DNS1123_LABEL.test(s); }
/** A Service's name is a DNS-1035 label: a DNS-1123 label that starts with a letter (it becomes a DNS name). */
export function isDns1035Label(s: string): boolean { return isDns1123Label(s) && /^[a-z]/.test(s); }

// Kubernetes label syntax: a key is [prefix/]name (name: at most 63 of [A-Za-z0-9_.-], alphanumeric at both ends;
// prefix: a DNS subdomain); a value is empty or a name.
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export function isLabelKey(k: string): boolean {
    const i = k.lastIndexOf("/");
    const [prefix, name] = i < 0 ? [undefined, k] : [k.slice(0, i), k.slice(i + 1)];
    return LABEL_NAME.test(name) && (prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix)));
}
export function isLabelValue(v: string): boolean { return v === "" || LABEL_NAME.test(v); }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: unknown) => JSON.stringify(v);

/**
 * Parses every document of every file: Pods, and Services beside them; all problems are reported together, prefixed
 * with file and field.
 */
export function parsePodManifests(files: readonly ManifestFile[]): { pods: PodSpec[]; services: ServiceSpec[]; problems: Problems } {
    const problems = new Problems();
    const pods: PodSpec[] = [];
    const services: ServiceSpec[] = [];
    for (const file of files) {
        let docs: unknown[];
        try {
            docs = yaml.loadAll(file.text).filter((d) => d !== null && d !== undefined);
        } catch (e) {
            problems.add(`${file.path}: not valid YAML: ${(e as Error).message.split("\n")[0]}`);
            continue;
        }
        docs.forEach((doc, i) => {
            const where = docs.length > 1 ? `${file.path} (document ${i + 1})` : file.path;
            if (isObject(doc) && doc.kind === "Service") {
                const svc = parseService(doc, where, problems);
                if (svc) { services.push(svc); }
                return;
            }
            const pod = parsePod(doc, where, problems);
            if (pod) { pods.push(pod); }
        });
    }
    const seenServices = new Map<string, string>();
    const nodePorts = new Map<number, string>();
    for (const s of services) {
        const other = seenServices.get(s.name);
        if (other) { problems.add(`${s.source}: metadata.name '${s.name}' is already the name of a Service in ${other}; Service names must be unique`); }
        seenServices.set(s.name, s.source);
        for (const p of s.ports) {
            if (p.nodePort === undefined) { continue; }
            const owner = nodePorts.get(p.nodePort);
            if (owner !== undefined) { problems.add(`${s.source}: nodePort ${p.nodePort} of Service '${s.name}' is already Service '${owner}''s; a node port serves one Service`); }
            nodePorts.set(p.nodePort, s.name);
        }
    }
    const seen = new Map<string, string>();
    for (const p of pods) {
        const other = seen.get(p.name);
        if (other) { problems.add(`${p.source}: metadata.name '${p.name}' is already the name of a pod in ${other}; pod names must be unique`); }
        seen.set(p.name, p.source);
    }
    return { pods, services, problems };
}

function unknownFields(obj: Record<string, unknown>, allowed: readonly string[], path: string, where: string, problems: Problems): void {
    for (const k of Object.keys(obj)) {
        if (!allowed.includes(k)) {
            problems.add(`${where}: ${path}${k} is not supported by this lab; supported here: ${allowed.map((a) => path + a).join(", ")}`);
        }
    }
}

/** Walks an optional list of objects: reports a non-list, non-object items and unknown fields, then calls `item`. */
function eachItem(v: unknown, path: string, shape: string, allowed: readonly string[], where: string, problems: Problems,
    item: (obj: Record<string, unknown>, itemPath: string) => void): void {
    if (v === undefined) { return; }
    if (!Array.isArray(v)) { problems.add(`${where}: ${path} is ${show(v)}; it must be a list of ${shape}`); return; }
    v.forEach((e, i) => {
        const p = `${path}[${i}]`;
        if (!isObject(e)) { problems.add(`${where}: ${p} is ${show(e)}; it must be ${shape}`); return; }
        unknownFields(e, allowed, `${p}.`, where, problems);
        item(e, p);
    });
}

function stringList(v: unknown, path: string, where: string, problems: Problems): string[] | undefined {
    if (v === undefined) { return undefined; }
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
        problems.add(`${where}: ${path} is ${show(v)}; it must be a list of strings`);
        return undefined;
    }
    return v as string[];
}

function parsePod(doc: unknown, where: string, problems: Problems): PodSpec | undefined {
    if (!isObject(doc)) { problems.add(`${where}: a manifest must be a Pod object, got ${show(doc)}`); return undefined; }
    const before = problems.count;
    unknownFields(doc, ALLOWED.top, "", where, problems);
    if (doc.apiVersion !== "v1" || doc.kind !== "Pod") {
        problems.add(`${where}: apiVersion/kind are ${show(doc.apiVersion)}/${show(doc.kind)}; this lab reads only apiVersion: v1 with kind: Pod or kind: Service`);
    }
    const meta = isObject(doc.metadata) ? doc.metadata : {};
    unknownFields(meta, ALLOWED.metadata, "metadata.", where, problems);
    const name = meta.name;
    if (typeof name !== "string" || !isDns1123Label(name)) {
        problems.add(`${where}: metadata.name is ${show(name)}; it must be a DNS-1123 label: at most 63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit`);
    }
    const labels = labelMap(meta.labels, "metadata.labels", where, problems);
    const spec = isObject(doc.spec) ? doc.spec : {};
    unknownFields(spec, ALLOWED.spec, "spec.", where, problems);
    const nodeName = spec.nodeName;
    if (nodeName !== undefined && typeof nodeName !== "string") {
        problems.add(`${where}: spec.nodeName is ${show(nodeName)}; it must be a node name like node1`);
    }
    const containers: PodContainer[] = [];
    if (!Array.isArray(spec.containers) || spec.containers.length === 0) {
        problems.add(`${where}: spec.containers is ${show(spec.containers)}; a pod needs a list of at least one container`);
    } else {
        spec.containers.forEach((c, i) => {
            const pc = parseContainer(c, `spec.containers[${i}]`, where, problems);
            if (pc) { containers.push(pc); }
        });
    }
    // S3: one network namespace means one port space; two containers cannot both listen on a port.
    const ports = new Map<string, string>();
    for (const c of containers) {
        for (const p of c.ports) {
            const key = `${p.containerPort}/${p.protocol}`;
            const owner = ports.get(key);
            if (owner !== undefined) {
                problems.add(`${where}: containers '${owner}' and '${c.name}' both declare port ${key}; the containers of a pod share one network namespace, so a port can be used by only one of them`);
            }
            ports.set(key, c.name);
        }
    }
    const cnames = new Set<string>();
    for (const c of containers) {
        if (cnames.has(c.name)) { problems.add(`${where}: spec.containers has two containers named '${c.name}'; names must be unique in a pod`); }
        cnames.add(c.name);
    }
    if (problems.count > before) { return undefined; }
    return { name: name as string, labels: labels ?? {}, nodeName: nodeName as string | undefined, containers, source: where };
}

/** A map of label keys to values (metadata.labels, spec.selector), each checked against Kubernetes' label syntax. */
function labelMap(v: unknown, path: string, where: string, problems: Problems): Record<string, string> | undefined {
    if (v === undefined) { return undefined; }
    if (!isObject(v)) { problems.add(`${where}: ${path} is ${show(v)}; it must be a map of label keys to values, like {app: web}`); return undefined; }
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
        if (!isLabelKey(k)) { problems.add(`${where}: ${path} has the key ${show(k)}; a label key is [prefix/]name, the name at most 63 of A-Z, a-z, 0-9, '-', '_', '.', starting and ending with a letter or digit`); continue; }
        if (typeof val !== "string" || !isLabelValue(val)) { problems.add(`${where}: ${path}.${k} is ${show(val)}; a label value is a string of at most 63 of A-Z, a-z, 0-9, '-', '_', '.', starting and ending with a letter or digit (quote numbers)`); continue; }
        out[k] = val;
    }
    return out;
}

const isPort = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535;

function parseService(doc: Record<string, unknown>, where: string, problems: Problems): ServiceSpec | undefined {
    const before = problems.count;
    unknownFields(doc, ALLOWED.top, "", where, problems);
    if (doc.apiVersion !== "v1") { problems.add(`${where}: apiVersion is ${show(doc.apiVersion)}; a Service is apiVersion: v1`); }
    const meta = isObject(doc.metadata) ? doc.metadata : {};
    unknownFields(meta, ALLOWED.serviceMetadata, "metadata.", where, problems);
    const name = meta.name;
    if (typeof name !== "string" || !isDns1035Label(name)) {
        problems.add(`${where}: metadata.name is ${show(name)}; a Service's name must be a DNS-1035 label: at most 63 characters of a-z, 0-9 and '-', starting with a letter and ending with a letter or digit`);
    }
    const spec = isObject(doc.spec) ? doc.spec : {};
    unknownFields(spec, ALLOWED.serviceSpec, "spec.", where, problems);
    const type = spec.type === undefined ? "ClusterIP" : spec.type;
    if (typeof type !== "string" || !(SERVICE_TYPES as readonly string[]).includes(type)) {
        problems.add(`${where}: spec.type is ${show(spec.type)}; this lab serves ${SERVICE_TYPES.join(" and ")} Services (kube-proxy's virtual IP, and a port on every node)`);
    }
    const selector = labelMap(spec.selector, "spec.selector", where, problems);
    if (spec.selector === undefined || (selector && Object.keys(selector).length === 0)) {
        problems.add(`${where}: spec.selector is ${show(spec.selector)}; a Service here picks its pods by their labels, like {app: web} (a Service without a selector has no endpoints the lab could make)`);
    }
    const ports: ServicePortSpec[] = [];
    if (!Array.isArray(spec.ports) || spec.ports.length === 0) {
        problems.add(`${where}: spec.ports is ${show(spec.ports)}; a Service needs a list of at least one port, like [{port: 80}]`);
    }
    eachItem(Array.isArray(spec.ports) ? spec.ports : undefined, "spec.ports", "{name, port, targetPort, nodePort, protocol}", ALLOWED.servicePort, where, problems, (p, pp) => {
        if (!isPort(p.port)) { problems.add(`${where}: ${pp}.port is ${show(p.port)}; it must be a whole number from 1 to 65535`); return; }
        const targetPort = p.targetPort === undefined ? p.port : p.targetPort;
        if (!isPort(targetPort)) { problems.add(`${where}: ${pp}.targetPort is ${show(p.targetPort)}; it must be the pods' port, a whole number from 1 to 65535 (named ports are not resolved here)`); return; }
        if (p.nodePort !== undefined) {
            if (type !== "NodePort") { problems.add(`${where}: ${pp}.nodePort is ${show(p.nodePort)}, but spec.type is ${show(type)}; only a NodePort Service has node ports`); return; }
            if (typeof p.nodePort !== "number" || !Number.isInteger(p.nodePort) || p.nodePort < NODE_PORT_RANGE.min || p.nodePort > NODE_PORT_RANGE.max) {
                problems.add(`${where}: ${pp}.nodePort is ${show(p.nodePort)}; it must be a whole number from ${NODE_PORT_RANGE.min} to ${NODE_PORT_RANGE.max} (the API server's node port range), or left out for the API server to pick`);
                return;
            }
        }
        const protocol = p.protocol === undefined ? "TCP" : p.protocol;
        if (protocol !== "TCP" && protocol !== "UDP" && protocol !== "SCTP") { problems.add(`${where}: ${pp}.protocol is ${show(p.protocol)}; valid: TCP, UDP, SCTP`); return; }
        if (p.name !== undefined && (typeof p.name !== "string" || !isDns1123Label(p.name))) { problems.add(`${where}: ${pp}.name is ${show(p.name)}; it must be a DNS-1123 label, like http`); return; }
        if (ports.some((q) => q.port === p.port && q.protocol === protocol)) { problems.add(`${where}: ${pp} declares ${p.port}/${protocol} twice`); return; }
        ports.push({ ...(p.name !== undefined ? { name: p.name as string } : {}), port: p.port, targetPort, ...(p.nodePort !== undefined ? { nodePort: p.nodePort as number } : {}), protocol });
    });
    if (ports.length > 1 && ports.some((p) => p.name === undefined)) {
        problems.add(`${where}: spec.ports has ${ports.length} ports; each needs a name when a Service has more than one (as the API server requires)`);
    }
    if (problems.count > before) { return undefined; }
    return { name: name as string, type: type as ServiceType, selector: selector ?? {}, ports, source: where };
}

function parseContainer(c: unknown, path: string, where: string, problems: Problems): PodContainer | undefined {
    if (!isObject(c)) { problems.add(`${where}: ${path} is ${show(c)}; it must be a container object`); return undefined; }
    unknownFields(c, ALLOWED.container, `${path}.`, where, problems);
    const name = c.name;
    if (typeof name !== "string" || !isDns1123Label(name)) {
        problems.add(`${where}: ${path}.name is ${show(name)}; it must be a DNS-1123 label (a-z, 0-9, '-', at most 63)`);
    }
    if (typeof c.image !== "string" || !isImageRef(c.image)) {
        problems.add(`${where}: ${path}.image is ${show(c.image)}; it must be an image reference like nginx:1.27`);
    }
    const command = stringList(c.command, `${path}.command`, where, problems);
    const args = stringList(c.args, `${path}.args`, where, problems);
    const env: PodEnv[] = [];
    eachItem(c.env, `${path}.env`, "{name, value}", ALLOWED.env, where, problems, (e, ep) => {
        if (typeof e.name !== "string" || !ENV_NAME.test(e.name)) { problems.add(`${where}: ${ep}.name is ${show(e.name)}; it must be an environment variable name`); return; }
        const value = e.value === undefined ? "" : e.value;
        if (typeof value !== "string") { problems.add(`${where}: ${ep}.value is ${show(e.value)}; it must be a string (quote numbers)`); return; }
        env.push({ name: e.name, value });
    });
    const ports: PodPort[] = [];
    eachItem(c.ports, `${path}.ports`, "{containerPort, protocol}", ALLOWED.port, where, problems, (p, pp) => {
        const port = p.containerPort;
        if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
            problems.add(`${where}: ${pp}.containerPort is ${show(port)}; it must be a whole number from 1 to 65535`);
            return;
        }
        const protocol = p.protocol === undefined ? "TCP" : p.protocol;
        if (protocol !== "TCP" && protocol !== "UDP" && protocol !== "SCTP") {
            problems.add(`${where}: ${pp}.protocol is ${show(p.protocol)}; valid: TCP, UDP, SCTP`);
            return;
        }
        if (ports.some((q) => q.containerPort === port && q.protocol === protocol)) {
            problems.add(`${where}: ${pp} declares ${port}/${protocol} twice in container ${show(name)}`);
            return;
        }
        ports.push({ containerPort: port, protocol });
    });
    return { name: name as string, image: c.image as string, command, args, env, ports };
}

/** The pod as a Kubernetes manifest (typed with @pulumi/kubernetes), placed on its node, for rendering. */
export function toKubernetesPod(pod: PodSpec, nodeName: string): k8s.types.input.core.v1.Pod {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: pod.name, ...(Object.keys(pod.labels).length ? { labels: { ...pod.labels } } : {}) },
        spec: {
            nodeName,
            containers: pod.containers.map((c) => ({
                name: c.name,
                image: c.image,
                ...(c.command ? { command: [...c.command] } : {}),
                ...(c.args ? { args: [...c.args] } : {}),
                ...(c.env.length ? { env: c.env.map((e) => ({ name: e.name, value: e.value })) } : {}),
                ...(c.ports.length ? { ports: c.ports.map((p) => ({ containerPort: p.containerPort, protocol: p.protocol })) } : {}),
            })),
        },
    };
}
