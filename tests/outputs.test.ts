// The outputs type (plan/outputs.ts) and what the program exports (under mocks) agree, field for field, in every
// mode: no field the type lacks, none it requires missing, every optional field seen in some mode, every list's
// entries checked in some mode. The type's fields are written out once more below, and the compiler holds that
// copy to the type: a field added to, removed from, or made optional in LabOutputs fails to compile here.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LabOutputs } from "../plan/outputs";
import { DEV_CONFIG, runProgram } from "./harness";

/** A field's kind, from its type: a string (or a union of string literals), a number, a list, or an object. */
type Kind<T> = [T] extends [string] ? "string" : [T] extends [number] ? "number"
    : T extends readonly (infer E)[] ? readonly [Kind<E>] : T extends object ? Fields<T> : never;
/** Every field of T, each with its kind, an optional one wrapped in { optional }. */
type Fields<T> = { readonly [K in keyof T]-?: undefined extends T[K] ? { readonly optional: Kind<Exclude<T[K], undefined>> } : Kind<T[K]> };

const FIELDS: Fields<LabOutputs> = {
    lan: { network: "string", cidr: "string", gateway: "string" },
    outside: { name: "string", container: "string", ip: "string" },
    clusterCidr: "string",
    podNetwork: "string",
    cniPlugin: { optional: "string" },
    podRuntime: "string",
    controlPlane: { optional: { name: "string", container: "string", lanIp: "string", server: "string", lanServer: "string", serviceCidr: "string", kubeconfigFile: "string", version: "string" } },
    clusterDns: { optional: { ip: "string", domain: "string", service: "string" } },
    kubeconfig: { optional: "string" },
    nodes: [{
        name: "string", container: "string", lanIp: "string", podCidr: "string", bridge: "string", bridgeIp: "string", bridgeMac: { optional: "string" },
        routes: [{ to: "string", via: "string", dev: { optional: "string" }, remote: { optional: "string" } }],
        vxlan: { optional: { device: "string", vni: "number", port: "number", vtepIp: "string", mac: "string", mtu: "number" } },
        podMtu: "number",
    }],
    pods: [{
        name: "string", node: "string", ip: "string", sandbox: "string", runtime: "string", manifest: { optional: "string" },
        containers: [{ name: "string", container: "string", image: "string" }],
    }],
    services: [{
        name: "string", type: "string", clusterIp: "string", selector: "string",
        ports: [{ name: { optional: "string" }, port: "number", targetPort: "number", nodePort: { optional: "number" }, protocol: "string" }],
        endpoints: [{ pod: "string", node: "string", ip: "string" }],
    }],
    pendingPods: [{ name: "string", nodeName: "string", reason: "string" }],
    diagram: "string",
    renderedManifests: "string",
};

type AnyKind = "string" | "number" | readonly [AnyKind] | { readonly optional: AnyKind } | { readonly [field: string]: AnyKind };
/** A field's path without list indexes: outputs.nodes[].vxlan. */
const general = (at: string) => at.replace(/\[\d+\]/g, "[]");
const isOptional = (k: AnyKind): k is { readonly optional: AnyKind } => typeof k === "object" && !Array.isArray(k) && Object.keys(k).join() === "optional";

/** Where a value and a kind disagree; `seen` collects the optional fields present and the lists with entries. */
function disagreements(kind: AnyKind, value: unknown, at: string, seen: Set<string>): string[] {
    if (kind === "string" || kind === "number") { return typeof value === kind ? [] : [`${at}: ${JSON.stringify(value)} is not a ${kind}`]; }
    if (Array.isArray(kind)) {
        if (!Array.isArray(value)) { return [`${at}: not a list`]; }
        if (value.length) { seen.add(`${general(at)}[]`); }
        return value.flatMap((v, i) => disagreements(kind[0] as AnyKind, v, `${at}[${i}]`, seen));
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) { return [`${at}: not an object`]; }
    const fields = kind as { readonly [field: string]: AnyKind };
    const obj = value as Record<string, unknown>;
    const out: string[] = [];
    for (const [name, k] of Object.entries(fields)) {
        const v = obj[name];
        if (isOptional(k)) {
            if (v !== undefined) { seen.add(`${general(at)}.${name}`); out.push(...disagreements(k.optional, v, `${at}.${name}`, seen)); }
        } else if (v === undefined) {
            out.push(`${at}.${name}: missing, and the type requires it`);
        } else {
            out.push(...disagreements(k, v, `${at}.${name}`, seen));
        }
    }
    for (const name of Object.keys(obj)) {
        if (!(name in fields) && obj[name] !== undefined) { out.push(`${at}.${name}: not in the type`); }
    }
    return out;
}

/** The optional fields and the lists of a kind, as `disagreements` records them when seen. */
function seeable(kind: AnyKind, at: string): string[] {
    if (kind === "string" || kind === "number") { return []; }
    if (Array.isArray(kind)) { return [`${at}[]`, ...seeable(kind[0] as AnyKind, `${at}[]`)]; }
    return Object.entries(kind as { readonly [field: string]: AnyKind }).flatMap(([name, k]) =>
        isOptional(k) ? [`${at}.${name}`, ...seeable(k.optional, `${at}.${name}`)] : seeable(k, `${at}.${name}`));
}

// Every valid pair of podRuntime and podNetwork (kubelet needs a CNI, so not docker0), and one lab with a Pending pod.
const MODES: { what: string; config: Record<string, unknown> }[] = [
    ...["lab", "vxlan", "docker0"].map((podNetwork) => ({ what: `docker, ${podNetwork}`, config: { podRuntime: "docker", podNetwork } })),
    ...["lab", "vxlan"].map((podNetwork) => ({ what: `kubelet, ${podNetwork}`, config: { podRuntime: "kubelet", podNetwork } })),
    ...["lab", "vxlan"].map((podNetwork) => ({ what: `cluster, ${podNetwork}`, config: { podRuntime: "cluster", podNetwork } })),
    { what: "docker, lab, 2 nodes (web-3 Pending)", config: { nodeCount: 2 } },
];

describe("stack outputs: the type (plan/outputs.ts) and the program agree", () => {
    const seen = new Set<string>();
    for (const m of MODES) {
        it(m.what, async () => {
            const run = await runProgram({ ...DEV_CONFIG, ...m.config });
            assert.deepEqual(disagreements(FIELDS, run.outputs, "outputs", seen), []);
        });
    }
    it("every optional field was there in some mode, and every list had entries", () => {
        assert.deepEqual(seeable(FIELDS, "outputs").filter((f) => !seen.has(f)), []);
    });
});
