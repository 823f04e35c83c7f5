// Runs index.ts under recording mocks with a given config; returns what it declared and exported.
import * as pulumi from "@pulumi/pulumi";
import { HostFacts } from "../plan/preflight";
import { RecordingMocks } from "./mocks";
import { acceptResourceHooks, LifecycleOptions, lifecycleOf, tapRegistrations, urnName } from "./monitor";

/** Resolves an Output (or plain value) to its value. */
export function valueOf<T>(o: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
    return new Promise((resolve) => pulumi.output(o).apply((v) => { resolve(v); return v; }));
}

export interface Run {
    readonly mocks: RecordingMocks;
    /** Names of a resource's ancestors, nearest first (from the parent URN each registration named). */
    ancestors(name: string): string[];
    /** The lifecycle options each resource was registered with, by name. */
    readonly options: ReadonlyMap<string, LifecycleOptions>;
    readonly outputs: Record<string, any>;
    /** The exports that are secrets (Pulumi keeps them encrypted in the state and hides them in `stack output`). */
    readonly secretExports: ReadonlySet<string>;
    /** Each resource's additionalSecretOutputs, by name (outputs the engine stores as secrets). */
    readonly secretOutputs: ReadonlyMap<string, readonly string[]>;
}

/** Waits until no new resource has been registered for a while. */
async function settle(mocks: RecordingMocks): Promise<void> {
    let last = -1;
    let stable = 0;
    while (stable < 5) {
        await new Promise((r) => setTimeout(r, 10));
        stable = mocks.resources.length === last ? stable + 1 : 0;
        last = mocks.resources.length;
    }
}

/** A host with no Docker network and no route but the default: nothing for the preflight to refuse. */
export const QUIET_HOST: HostFacts = { networks: [], routes: [{ destination: "0.0.0.0/0", device: "eth0" }] };

/**
 * Config keys are given without the project namespace; `facts` stand in for what the preflight reads from the
 * host (the tests never look at the machine they run on). Throws what the program throws.
 */
export async function runProgram(config: Record<string, string | object | number | boolean>, stack = "dev", facts: HostFacts = QUIET_HOST): Promise<Run> {
    (require("../host/facts") as { readHostFacts: () => HostFacts }).readHostFacts = () => facts;
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) { all[`podnet-lab:${k}`] = typeof v === "string" ? v : JSON.stringify(v); }
    pulumi.runtime.setAllConfig(all);
    const mocks = new RecordingMocks();
    await pulumi.runtime.setMocks(mocks, "podnet-lab", stack, false);
    acceptResourceHooks();
    // The mock monitor's URNs keep only the parent's last type, so record each resource's parent as it registers.
    const parentOf = new Map<string, string | undefined>();
    const duplicated = new Set<string>();
    const options = new Map<string, LifecycleOptions>();
    const secretOutputs = new Map<string, readonly string[]>();
    tapRegistrations((req) => {
        options.set(req.getName(), lifecycleOf(req));
        secretOutputs.set(req.getName(), req.getAdditionalsecretoutputsList());
        if (parentOf.has(req.getName())) { duplicated.add(req.getName()); }
        parentOf.set(req.getName(), req.getParent() ? urnName(req.getParent()) : undefined);
    });
    const ancestors = (name: string): string[] => {
        if (!parentOf.has(name) || duplicated.has(name)) { throw new Error(`${parentOf.has(name) ? "several" : "no"} resources named ${name}`); }
        const out: string[] = [];
        for (let p = parentOf.get(name); p; p = parentOf.get(p)) { out.push(p); }
        return out;
    };
    const index = require.resolve("../index");
    delete require.cache[index];
    try {
        const exported = require(index) as Record<string, pulumi.Input<unknown>>;
        const outputs: Record<string, any> = {};
        const secretExports = new Set<string>();
        for (const [k, v] of Object.entries(exported)) {
            outputs[k] = await valueOf(v);
            if (pulumi.Output.isInstance(v) && await pulumi.isSecret(v)) { secretExports.add(k); }
        }
        await settle(mocks);
        return { mocks, outputs, ancestors, options, secretExports, secretOutputs };
    } catch (e) {
        await settle(mocks);
        (e as { declared?: number }).declared = mocks.resources.length;
        throw e;
    }
}

/** The seeds' config (Pulumi.dev.yaml). */
export const DEV_CONFIG = {
    lanCidr: "192.168.1.0/24", firstNodeIp: "192.168.1.11", nodeCount: 3, clusterCidr: "10.244.0.0/16",
    nodeSubnetPrefix: 24, bridgeName: "v-net-0", nodeImage: "", pauseImage: "registry.k8s.io/pause:3.10",
    imageSubstitutions: {}, nodeSecurity: "privileged", preloadImages: true,
};
