// The e2e stand-in's state and destroy: what was created, and how to undo it in dependency order.
// No @pulumi import here, so `e2e:down` starts fast.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";

/** Everything needed to undo one created resource. */
export interface StateEntry {
    readonly type: string;
    readonly name: string;
    readonly id: string;
    /** Id of the provider it was created with ("" = the host engine). */
    readonly provider: string;
    readonly inputs: Record<string, any>;
    readonly outputs: Record<string, any>;
    /** Names of the resources it depends on (explicit, through inputs, parent, provider): destroyed after it. */
    readonly dependsOn: readonly string[];
    /** The `deletedWith` option: when that resource is destroyed in the same run, this one is not deleted on its own. */
    readonly deletedWith: string;
}
export interface EngineState {
    readonly stack: string;
    /** Created resources, in the order they finished (destroy runs it backwards). */
    readonly created: StateEntry[];
    readonly renderDirs: Record<string, string>;
    /** Cluster mode: each cluster provider's kubeconfig, by provider id. */
    clusters?: Record<string, string>;
}

export type Log = (line: string) => void;

/**
 * Runs a command the way pulumi-command's local provider does: /bin/sh -c, with the given environment, and
 * `stdin` (if not empty) as its standard input, for create and delete alike.
 */
export function runShell(cmd: string, env: Record<string, string>, stdin?: string): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn("/bin/sh", ["-c", cmd], { env: { ...process.env, ...env }, stdio: [stdin ? "pipe" : "ignore", "pipe", "pipe"] });
        if (stdin) { child.stdin?.end(stdin); }
        let stdout = "";
        let stderr = "";
        child.stdout?.on("data", (d) => { stdout += d; });
        child.stderr?.on("data", (d) => { stderr += d; });
        child.on("error", reject);
        child.on("close", (code) => {
            const out = { stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, "") };
            if (code === 0) { resolve(out); }
            else { reject(new Error(`command exited with ${code}: ${cmd}\n${out.stderr}`)); }
        });
    });
}

/** The host's Docker engine (DOCKER_HOST is not consulted: the lab is on this machine's engine). */
export function dockerClient(): Docker {
    return new Docker({ socketPath: "/var/run/docker.sock" });
}

export const labelsOf = (labels: { label: string; value: string }[] | undefined) =>
    Object.fromEntries((labels ?? []).map((l) => [l.label, l.value]));

export const isNotFound = (e: unknown) => (e as { statusCode?: number }).statusCode === 404;

/** Where the render-only Kubernetes provider writes a manifest: <dir>/1-manifest/<apiVersion>-<kind>-<namespace>-<name>.yaml. */
export function renderedPath(dir: string, manifest: Record<string, any>): string {
    const ns = manifest.metadata?.namespace || "default";
    const api = String(manifest.apiVersion).replace(/[/:]/g, "_");
    return path.join(dir, "1-manifest", `${api}-${String(manifest.kind).toLowerCase()}-${ns}-${manifest.metadata.name}.yaml`);
}

/** A value as the program gave it: a secret reaches the mocks wrapped ({<sig>: <secret sig>, value}). */
export function plain<T>(v: T | { value: T }): T {
    return typeof v === "object" && v !== null && "value" in v && Object.keys(v).length === 2 ? (v as { value: T }).value : v as T;
}

/**
 * kubectl, a judge nobody here wrote: $PODNET_KUBECTL, else the one tests/e2e/images/build.sh built (Kubernetes
 * v1.34.0, from the Go module proxy), else the one on the PATH.
 */
export function kubectlPath(): string {
    if (process.env.PODNET_KUBECTL) { return process.env.PODNET_KUBECTL; }
    const built = path.join(process.env.PODNET_TOOLS_CACHE ?? "/var/cache/podnet-lab", "kube-v1.34.0", "kubectl");
    return fs.existsSync(built) ? built : "kubectl";
}

/** Runs kubectl with a kubeconfig given as text (written to a private file for the call); its stdout. */
export async function kubectl(kubeconfig: string, args: readonly string[], stdin?: string): Promise<string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "podnet-kube-"));
    const file = path.join(dir, "kubeconfig");
    fs.writeFileSync(file, kubeconfig, { mode: 0o600 });
    try {
        return await new Promise<string>((resolve, reject) => {
            const child = spawn(kubectlPath(), ["--kubeconfig", file, ...args], { stdio: [stdin ? "pipe" : "ignore", "pipe", "pipe"] });
            if (stdin) { child.stdin?.end(stdin); }
            let out = "", err = "";
            child.stdout?.on("data", (d) => { out += d; });
            child.stderr?.on("data", (d) => { err += d; });
            child.on("error", reject);
            child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(" ")} exited with ${code}: ${err.trim()}`))));
        });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Applies one object, waits (a pod) until it is Ready, and returns it as the API server has it. */
export async function clusterApply(kubeconfig: string, object: Record<string, any>): Promise<Record<string, any>> {
    const ns = object.metadata.namespace ?? "default";
    await kubectl(kubeconfig, ["apply", "-f", "-"], JSON.stringify(object));
    const ref = `${String(object.kind).toLowerCase()}/${object.metadata.name}`;
    if (object.kind === "Pod") { await kubectl(kubeconfig, ["-n", ns, "wait", "--for=condition=Ready", ref, "--timeout=180s"]); }
    if (object.kind === "Deployment") { await kubectl(kubeconfig, ["-n", ns, "rollout", "status", ref, "--timeout=180s"]); }
    if (object.kind === "Service" && object.metadata.annotations?.["pulumi.com/skipAwait"] !== "true") {
        // (the provider waits until the Service's Endpoints hold an address)
        await kubectl(kubeconfig, ["-n", ns, "wait", "--for=jsonpath={.subsets[0].addresses[0].ip}", `endpoints/${object.metadata.name}`, "--timeout=120s"]);
    }
    return JSON.parse(await kubectl(kubeconfig, ["-n", ns, "get", ref, "-o", "json"]));
}

export async function clusterDelete(kubeconfig: string, kind: string, name: string, ns: string): Promise<void> {
    await kubectl(kubeconfig, ["-n", ns, "delete", kind, name, "--ignore-not-found", "--wait=true", "--timeout=120s"]);
}

/** Destroys what a state file records, newest first, as `pulumi destroy` would; returns how many it undid. */
export async function destroyState(state: EngineState, log: Log, only?: (e: StateEntry) => boolean): Promise<StateEntry[]> {
    const docker = dockerClient();
    const targets = state.created.filter((e) => !only || only(e));
    // Like Pulumi's deletedWith: what goes with a resource destroyed in this run is not deleted on its own.
    const goesWith = (e: StateEntry) => !!e.deletedWith && targets.some((t) => t.name === e.deletedWith);
    const destroyOne = async (e: StateEntry) => {
        const started = Date.now();
        if (goesWith(e)) {
            log(`  - ${e.type.replace(/^.*:/, "").padEnd(12)} ${e.name.padEnd(36)}   goes with ${e.deletedWith}`);
            return;
        }
        switch (e.type) {
            case "command:local:Command":
                if (e.inputs.delete) {
                    await runShell(e.inputs.delete, {
                        ...(e.inputs.environment ?? {}),
                        PULUMI_COMMAND_STDOUT: e.outputs.stdout ?? "",
                        PULUMI_COMMAND_STDERR: e.outputs.stderr ?? "",
                    }, e.inputs.stdin);
                }
                break;
            case "docker:index/container:Container":
                try { await docker.getContainer(e.id).remove({ force: true, v: true }); }
                catch (err) { if (!isNotFound(err)) { throw err; } }
                break;
            case "docker:index/remoteImage:RemoteImage":
                if (!e.inputs.keepLocally) { throw new Error(`engine stand-in: removing images (keepLocally false) is not implemented`); }
                break;
            case "kubernetes:core/v1:Pod":
                if (state.clusters?.[e.provider] !== undefined) {
                    // As the provider does: delete, and wait until the object is gone (kubelet has run the CNI DEL).
                    await clusterDelete(state.clusters[e.provider], "pod", e.inputs.metadata.name, e.inputs.metadata.namespace ?? "default");
                } else {
                    fs.rmSync(renderedPath(state.renderDirs[e.provider], e.inputs), { force: true });
                }
                break;
            case "kubernetes:core/v1:Service":
            case "kubernetes:core/v1:ServiceAccount":
            case "kubernetes:core/v1:ConfigMap":
            case "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole":
            case "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding":
            case "kubernetes:apps/v1:Deployment":
                await clusterDelete(state.clusters?.[e.provider] ?? "", e.inputs.kind, e.inputs.metadata.name, e.inputs.metadata.namespace ?? "default");
                break;
            case "pulumi:providers:kubernetes":
                break;
            default:
                throw new Error(`engine stand-in: cannot destroy ${e.type}`);
        }
        log(`  - ${e.type.replace(/^.*:/, "").padEnd(12)} ${e.name.padEnd(36)} ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`);
    };
    // Like Pulumi: a resource goes once nothing left still depends on it; independent ones go in parallel.
    const done: StateEntry[] = [];
    let left = [...targets];
    while (left.length) {
        const wave = left.filter((e) => !left.some((o) => o !== e && o.dependsOn.includes(e.name)));
        if (!wave.length) { throw new Error(`engine stand-in: dependency cycle among ${left.map((e) => e.name).join(", ")}`); }
        await Promise.all(wave.map(destroyOne));
        done.push(...wave);
        left = left.filter((e) => !wave.includes(e));
    }
    return done;
}
