// e2e driver: `up` runs index.ts through the engine stand-in on the local Docker engine and writes the stack
// outputs to .lab/e2e/outputs.json; `down` destroys it and fails if anything labelled with the stack is left;
// `destroy NAME...` undoes single resources (newest first); `test` is up, the claims, down.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";
import type * as Pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { LABEL_STACK } from "../../plan/plan";
import { projectRoot } from "../../plan/load";
import type { EngineStandIn as StandIn } from "./engine";
import { acceptResourceHooks } from "../monitor";
import { destroyState, EngineState } from "./state";

export const STACK = "e2e";
const root = projectRoot();
export const LAB_DIR = path.join(root, ".lab", STACK);
const STATE = path.join(LAB_DIR, "state.json");
export const OUTPUTS = path.join(LAB_DIR, "outputs.json");
const log = (line: string) => process.stdout.write(line + "\n");

/**
 * The e2e stack's config (Pulumi.e2e.yaml), as Pulumi would hand it to the program; PODNET_E2E_NODES overrides
 * nodeCount, PODNET_E2E_PODS the pod folder, PODNET_E2E_POD_NETWORK podNetwork, PODNET_E2E_CNI_PLUGIN cniPlugin,
 * PODNET_E2E_POD_RUNTIME podRuntime.
 */
function stackConfig(): Record<string, string> {
    const file = yaml.load(fs.readFileSync(path.join(root, `Pulumi.${STACK}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(file.config)) { out[k] = typeof v === "string" ? v : JSON.stringify(v); }
    if (process.env.PODNET_E2E_NODES) { out["podnet-lab:nodeCount"] = process.env.PODNET_E2E_NODES; }
    if (process.env.PODNET_E2E_PODS) { out["podnet-lab:pods"] = JSON.stringify([process.env.PODNET_E2E_PODS]); }
    if (process.env.PODNET_E2E_POD_NETWORK) { out["podnet-lab:podNetwork"] = process.env.PODNET_E2E_POD_NETWORK; }
    if (process.env.PODNET_E2E_CNI_PLUGIN) { out["podnet-lab:cniPlugin"] = process.env.PODNET_E2E_CNI_PLUGIN; }
    if (process.env.PODNET_E2E_POD_RUNTIME) { out["podnet-lab:podRuntime"] = process.env.PODNET_E2E_POD_RUNTIME; }
    return out;
}

function readState(): EngineState | undefined {
    return fs.existsSync(STATE) ? JSON.parse(fs.readFileSync(STATE, "utf8")) as EngineState : undefined;
}

async function up(): Promise<number> {
    const previous = readState();
    if (previous && previous.created.length) {
        log(`e2e:up: a lab is already up (${previous.created.length} resources in ${path.relative(root, STATE)}); run 'npm run e2e:down' first`);
        return 1;
    }
    fs.mkdirSync(LAB_DIR, { recursive: true });
    fs.rmSync(OUTPUTS, { force: true });
    const started = Date.now();
    log(`e2e:up: stack ${STACK} through the engine stand-in (resources are created for real on the local Docker engine)`);
    // Loaded here, not at the top: `down` and `destroy` need neither the Pulumi SDK nor the stand-in.
    const pulumi = require("@pulumi/pulumi") as typeof Pulumi;
    const { EngineStandIn } = require("./engine") as { EngineStandIn: typeof StandIn };
    const engine = new EngineStandIn(STATE, STACK, log);
    let failure: unknown;
    const fail = (e: unknown) => { failure ??= e; };
    process.on("unhandledRejection", fail);
    pulumi.runtime.setAllConfig(stackConfig());
    await pulumi.runtime.setMocks(engine, "podnet-lab", STACK, false);
    // The engine's leftover-container hook (components/lifecycle.ts) never runs here: the stand-in only creates on a clean slate.
    acceptResourceHooks();
    engine.attach();
    try {
        const program = require("../../index") as Record<string, Pulumi.Input<unknown>>;
        const outputs: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(program)) {
            outputs[k] = await Promise.race([
                new Promise((resolve) => pulumi.output(v as Pulumi.Input<any>).apply((x: unknown) => { resolve(x); return x; })),
                new Promise((_, reject) => { const t = setInterval(() => { if (failure) { clearInterval(t); reject(failure); } }, 50); }),
            ]);
        }
        await engine.idle();
        if (failure) { throw failure; }
        // Mode 0600: in cluster mode the outputs hold the admin kubeconfig (a secret output).
        fs.writeFileSync(OUTPUTS, JSON.stringify(outputs, null, 2) + "\n", { mode: 0o600 });
        log(String(outputs.diagram));
        log(`e2e:up: ${engine.created.length} resources created in ${((Date.now() - started) / 1000).toFixed(1)}s; outputs in ${path.relative(root, OUTPUTS)}`);
        return 0;
    } catch (e) {
        await engine.idle();
        log(`e2e:up FAILED: ${(e as Error).message ?? e}`);
        log(`e2e:up: ${engine.created.length} resources were created before the failure; 'npm run e2e:down' removes them`);
        return 1;
    }
}

/** Host-side objects still carrying this stack's label. */
export async function leftovers(): Promise<string[]> {
    const docker = new Docker();
    const filters = JSON.stringify({ label: [`${LABEL_STACK}=${STACK}`] });
    const containers = await docker.listContainers({ all: true, filters });
    const networks = await docker.listNetworks({ filters });
    const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
    return [
        ...containers.map((c) => `container ${c.Names[0]?.replace(/^\//, "")}`),
        ...networks.map((n) => `network ${n.Name}`),
        ...volumes.map((v) => `volume ${v.Name}`),
    ];
}

async function down(): Promise<number> {
    const started = Date.now();
    const state = readState();
    if (state) {
        log(`e2e:down: destroying ${state.created.length} resources in dependency order (independent ones in parallel)`);
        await destroyState(state, log);
        fs.rmSync(STATE, { force: true });
    } else {
        log("e2e:down: no state file; nothing recorded to destroy");
    }
    fs.rmSync(OUTPUTS, { force: true });
    const left = await leftovers();
    if (left.length) {
        log(`e2e:down FAILED: left on the host with label ${LABEL_STACK}=${STACK}:\n  ${left.join("\n  ")}`);
        return 1;
    }
    log(`e2e:down: nothing labelled ${LABEL_STACK}=${STACK} is left (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    return 0;
}

/** Undoes the named resources, newest first, and forgets them (what destroying them with Pulumi would run). */
async function destroy(names: string[]): Promise<number> {
    const state = readState();
    if (!state) { log("e2e:destroy: no lab is up"); return 1; }
    const missing = names.filter((n) => !state.created.some((e) => e.name === n));
    if (missing.length) { log(`e2e:destroy: not in the state: ${missing.join(", ")}`); return 1; }
    const done = await destroyState(state, log, (e) => names.includes(e.name));
    const rest = { ...state, created: state.created.filter((e) => !done.includes(e)) };
    fs.writeFileSync(STATE, JSON.stringify(rest, null, 1), { mode: 0o600 });
    return 0;
}

/**
 * up; the self-healing checks (restarts, drift); the cockpit; the CNI and gateway (R6) checks; the claims (S10 last: it destroys a pod); then `down` from a
 * broken state (one node stopped, another removed by hand), which must still leave nothing. Then the same lab in the
 * "before" state (docker0), in the overlay model (vxlan: its own checks, the CNI checks, then the same claims), and with the
 * reference `bridge` CNI plugin in place of podnet (the cockpit, the CNI checks and the claims), in kubelet mode, routed
 * (the cockpit, the live page, the claims and the kubelet checks) and overlay (the claims and the kubelet checks), and in
 * cluster mode (the cockpit, the live page, the claims, the Services and the cluster checks; over the overlay, the
 * claims and the Services), each up and down.
 */
function test(): number {
    const node = process.execPath;
    const self = __filename;
    const run = (args: string[]) => spawnSync(node, args, { stdio: "inherit", cwd: root }).status ?? 1;
    const suite = (file: string) => run(["--test", "--test-concurrency=1", path.join(__dirname, file)]);
    // The README's commands on a fresh clone (no lab needed): the set-up up to its first pulumi call, the tests up to this run.
    const readme = suite("readme.e2e.js");
    const upStatus = run([self, "up"]);
    let status = upStatus || readme;
    if (upStatus === 0) {
        status = suite("heal.e2e.js") || status;
        status = suite("cockpit.e2e.js") || status;
        // The live page (podnet serve) in headless chromium: pods, a trace on the picture, break and fix, the token.
        status = suite("web.e2e.js") || status;
        status = suite("cni.e2e.js") || status;
        // R6: the bridge's own MAC; a lower-MAC port comes and goes, and the pods do not notice.
        status = suite("gateway.e2e.js") || status;
        status = suite("claims.e2e.js") || status;
        const out = JSON.parse(fs.readFileSync(OUTPUTS, "utf8")) as { nodes: { container: string }[] };
        log(`test:e2e: breaking the lab before down: docker stop ${out.nodes[0].container}; docker rm -f -v ${out.nodes[1].container}`);
        spawnSync("docker", ["stop", "-t", "1", out.nodes[0].container]);
        spawnSync("docker", ["rm", "-f", "-v", out.nodes[1].container]);
    } else {
        log("test:e2e: the lab did not come up; claims not run");
    }
    let downStatus = run([self, "down"]);
    // The "before" state (S6): the same lab on each node's docker0, and what the cockpit's matrix shows of it.
    /** Runs node with the e2e stack's config changed by environment (cli.ts stackConfig): the same lab, another variant. */
    const variant = (env: Record<string, string>) => (args: string[]) =>
        spawnSync(node, args, { stdio: "inherit", cwd: root, env: { ...process.env, ...env } }).status ?? 1;
    const before = variant({ PODNET_E2E_POD_NETWORK: "docker0" });
    if (before([self, "up"]) === 0) {
        status = before(["--test", path.join(__dirname, "before.e2e.js")]) || status;
    } else {
        status = 1;
    }
    downStatus = before([self, "down"]) || downStatus;
    // The overlay model (seed 002): the same lab over VXLAN; its own checks, then the same claims as the routed one.
    const overlay = variant({ PODNET_E2E_POD_NETWORK: "vxlan" });
    if (overlay([self, "up"]) === 0) {
        status = overlay(["--test", "--test-concurrency=1", path.join(__dirname, "vxlan.e2e.js")]) || status;
        status = overlay(["--test", "--test-concurrency=1", path.join(__dirname, "cni.e2e.js")]) || status;
        status = overlay(["--test", "--test-concurrency=1", path.join(__dirname, "gateway.e2e.js")]) || status;
        status = overlay(["--test", "--test-concurrency=1", path.join(__dirname, "web.e2e.js")]) || status;
        status = overlay(["--test", "--test-concurrency=1", path.join(__dirname, "claims.e2e.js")]) || status;
    } else {
        status = 1;
    }
    downStatus = overlay([self, "down"]) || downStatus;
    // The CNI plugin swapped (C4): the CNI project's reference `bridge` plugin on the same subnets; the same claims.
    const reference = variant({ PODNET_E2E_CNI_PLUGIN: "bridge" });
    if (reference([self, "up"]) === 0) {
        for (const file of ["cockpit.e2e.js", "cni.e2e.js", "gateway.e2e.js", "claims.e2e.js"]) {
            status = reference(["--test", "--test-concurrency=1", path.join(__dirname, file)]) || status;
        }
    } else {
        status = 1;
    }
    downStatus = reference([self, "down"]) || downStatus;
    // Kubelet mode: the same pods built by a real kubelet and containerd, routed and over the overlay. The same claims
    // (S10 skipped: the kubelet suite removes a pod itself and checks containerd's DEL), then the kubelet suite, last
    // since it removes web-1 and restarts node3.
    for (const podNetwork of ["lab", "vxlan"]) {
        const kubelet = variant({ PODNET_E2E_POD_RUNTIME: "kubelet", PODNET_E2E_POD_NETWORK: podNetwork });
        if (kubelet([self, "up"]) === 0) {
            const skipS10 = { PODNET_CLAIMS_SKIP_S10: "in kubelet mode kubelet.e2e removes a pod (web-1) and checks kubelet's and containerd's part of it" };
            // The cockpit and the live page, on the routed kubelet lab; the gateway checks (R6) on both.
            for (const file of [...(podNetwork === "lab" ? ["cockpit.e2e.js", "web.e2e.js"] : []), "gateway.e2e.js"]) {
                status = kubelet(["--test", "--test-concurrency=1", path.join(__dirname, file)]) || status;
            }
            status = variant({ PODNET_E2E_POD_RUNTIME: "kubelet", ...skipS10 })(["--test", "--test-concurrency=1", path.join(__dirname, "claims.e2e.js")]) || status;
            status = kubelet(["--test", "--test-concurrency=1", path.join(__dirname, "kubelet.e2e.js")]) || status;
        } else {
            status = 1;
        }
        downStatus = kubelet([self, "down"]) || downStatus;
    }
    // Cluster mode: a real control plane; the same pods as Pod objects. The cockpit and the live page, the claims (S10
    // skipped: the cluster suite deletes a kubectl-made pod and checks containerd's DEL), then the cluster suite (K1-K4),
    // last since it stops the control plane and restarts node3.
    const cluster = variant({ PODNET_E2E_POD_RUNTIME: "cluster" });
    if (cluster([self, "up"]) === 0) {
        for (const file of ["cockpit.e2e.js", "web.e2e.js"]) {
            status = cluster(["--test", "--test-concurrency=1", path.join(__dirname, file)]) || status;
        }
        const skipS10 = { PODNET_CLAIMS_SKIP_S10: "in cluster mode cluster.e2e deletes a pod (seed 001's, made with kubectl) and checks containerd's DEL" };
        status = variant({ PODNET_E2E_POD_RUNTIME: "cluster", ...skipS10 })(["--test", "--test-concurrency=1", path.join(__dirname, "claims.e2e.js")]) || status;
        status = cluster(["--test", "--test-concurrency=1", path.join(__dirname, "services.e2e.js")]) || status;
        status = cluster(["--test", "--test-concurrency=1", path.join(__dirname, "cluster.e2e.js")]) || status;
    } else {
        status = 1;
    }
    downStatus = cluster([self, "down"]) || downStatus;
    // Cluster mode over the overlay: the claims, then the Services (kube-proxy's DNAT, then the VXLAN device).
    const clusterOverlay = variant({ PODNET_E2E_POD_RUNTIME: "cluster", PODNET_E2E_POD_NETWORK: "vxlan" });
    if (clusterOverlay([self, "up"]) === 0) {
        const skip = { PODNET_CLAIMS_SKIP_S10: "in cluster mode over the overlay the Services suite runs next on the same lab, with every web pod" };
        status = variant({ PODNET_E2E_POD_RUNTIME: "cluster", PODNET_E2E_POD_NETWORK: "vxlan", ...skip })(["--test", "--test-concurrency=1", path.join(__dirname, "claims.e2e.js")]) || status;
        status = clusterOverlay(["--test", "--test-concurrency=1", path.join(__dirname, "services.e2e.js")]) || status;
    } else {
        status = 1;
    }
    downStatus = clusterOverlay([self, "down"]) || downStatus;
    return status || downStatus;
}

async function main(): Promise<number> {
    const [verb, ...rest] = process.argv.slice(2);
    switch (verb) {
        case "up": return up();
        case "down": return down();
        case "destroy": return destroy(rest);
        case "test": return test();
        default:
            log("usage: cli.js up | down | destroy NAME... | test");
            return 2;
    }
}

if (require.main === module) {
    main().then((code) => process.exit(code), (e) => { log(`e2e: ${(e as Error).stack ?? e}`); process.exit(1); });
}
