// A stack of this project under a real `pulumi` CLI: local file backend in a temporary folder, fully offline,
// the e2e stack's offline images. Used by the real-CLI lifecycle suite (tests/real/lifecycle.real.ts).
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { LabOutputs } from "../../plan/outputs";
import { LABEL_STACK } from "../../plan/plan";

export interface CliRun { readonly status: number; readonly output: string; readonly seconds: number; }

/** The plugins the npm packages ask for (the `pulumi` field of their package.json). */
export function requiredPlugins(root: string): { name: string; version: string }[] {
    return ["command", "docker", "kubernetes"].map((name) => {
        const pkg = JSON.parse(fs.readFileSync(path.join(root, "node_modules", "@pulumi", name, "package.json"), "utf8")) as { pulumi: { version: string } };
        return { name, version: pkg.pulumi.version };
    });
}

/** Why the suite cannot run here, or undefined when it can. */
export function realCliMissing(root: string): string | undefined {
    const version = spawnSync("pulumi", ["version"], { encoding: "utf8" });
    if (version.error || version.status !== 0) { return "no `pulumi` CLI on PATH"; }
    if (spawnSync("sh", ["-c", "command -v pulumi-language-nodejs"]).status !== 0) { return "no `pulumi-language-nodejs` language host on PATH"; }
    const ls = spawnSync("pulumi", ["plugin", "ls", "--json"], { encoding: "utf8", env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
    const have = ls.status === 0 ? JSON.parse(ls.stdout || "[]") as { name: string; kind: string; version: string }[] : [];
    const lacking = requiredPlugins(root).filter((p) => !have.some((h) => h.kind === "resource" && h.name === p.name && h.version === p.version));
    if (lacking.length) { return `the CLI lacks the resource plugin(s) ${lacking.map((p) => `${p.name} ${p.version}`).join(", ")}`; }
    if (spawnSync("docker", ["info"]).status !== 0) { return "no Docker engine answers"; }
    return undefined;
}

export class RealStack {
    public readonly dir: string;
    public readonly backend: string;
    public readonly configFile: string;
    public readonly podsDir: string;
    public readonly outputsFile: string;
    private salt = "";

    /** `extraEnv`: more environment for every pulumi command (the bench's PULUMI_SKIP_CHECKPOINTS rows). */
    constructor(public readonly root: string, public readonly stack: string, private readonly extraEnv: Readonly<Record<string, string>> = {}) {
        this.dir = path.join(root, ".lab", stack);
        this.backend = fs.mkdtempSync(path.join(os.tmpdir(), `podnet-${stack}-state-`));
        this.configFile = path.join(root, `Pulumi.${stack}.yaml`);
        this.podsDir = path.join(this.dir, "pods");
        this.outputsFile = path.join(this.dir, "outputs.json");
    }

    get env(): NodeJS.ProcessEnv {
        return {
            ...process.env,
            PULUMI_BACKEND_URL: `file://${this.backend}`,
            PULUMI_CONFIG_PASSPHRASE: "podnet-lab-real-suite",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            ...this.extraEnv,
        };
    }

    run(args: string[]): CliRun {
        const t = process.hrtime.bigint();
        const r = spawnSync("pulumi", [...args, "--stack", this.stack, "--non-interactive", "--color", "never"],
            { cwd: this.root, env: this.env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
        return { status: r.status ?? 1, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}`, seconds: Number(process.hrtime.bigint() - t) / 1e9 };
    }

    /**
     * A pulumi command in a process group of its own, sent `signal` as a whole group after `afterSeconds`, as a
     * terminal's Ctrl-C (SIGINT) or its closing reaches every process of its job: the CLI, the language host, the
     * program and the providers. After a SIGINT, the CLI is given `windDown` seconds to finish what is in flight;
     * then the group is killed. `signalled`: whether the signal was sent before the command ended by itself.
     */
    runInterrupted(args: string[], signal: NodeJS.Signals, afterSeconds: number, windDown = 120): Promise<CliRun & { signalled: boolean }> {
        return new Promise((resolve) => {
            const t = process.hrtime.bigint();
            const child = spawn("pulumi", [...args, "--stack", this.stack, "--non-interactive", "--color", "never"],
                { cwd: this.root, env: this.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
            let output = "";
            child.stdout.on("data", (d) => { output += d; });
            child.stderr.on("data", (d) => { output += d; });
            let signalled = false;
            const group = (sig: NodeJS.Signals) => { try { process.kill(-child.pid!, sig); return true; } catch { return false; } };
            let last: NodeJS.Timeout | undefined;
            const timer = setTimeout(() => {
                signalled = group(signal);
                if (signal !== "SIGKILL") { last = setTimeout(() => group("SIGKILL"), windDown * 1000); }
            }, afterSeconds * 1000);
            child.on("close", (code) => {
                clearTimeout(timer);
                if (last) { clearTimeout(last); }
                // Whatever the group's processes were still doing ends with it.
                group("SIGKILL");
                resolve({ status: code ?? 1, output, seconds: Number(process.hrtime.bigint() - t) / 1e9, signalled });
            });
        });
    }

    /** What carries this stack's label on the host: containers, networks, volumes ("kind name" each). */
    leftBehind(): string[] {
        const names = (what: string, format: string) => spawnSync("docker", [...what.split(" "), "--filter", `label=${LABEL_STACK}=${this.stack}`, "--format", format],
            { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
        return [...names("ps -a", "container {{.Names}} ({{.State}})"), ...names("network ls", "network {{.Name}}"), ...names("volume ls", "volume {{.Name}}")];
    }

    /** Removes, by label, whatever carries this stack's label (kind's way: the last resort when a destroy fails). */
    removeByLabel(): void {
        const label = `label=${LABEL_STACK}=${this.stack}`;
        spawnSync("sh", ["-c", `docker ps -aq --filter ${label} | xargs -r docker rm -f -v; docker network ls -q --filter ${label} | xargs -r docker network rm; ` +
            `docker volume ls -q --filter ${label} | xargs -r docker volume rm`]);
    }

    /** A new stack whose config is the e2e stack's, with pods from a folder of this suite's own. */
    init(podFiles: string[]): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
        fs.mkdirSync(this.podsDir, { recursive: true });
        for (const f of podFiles) { fs.copyFileSync(f, path.join(this.podsDir, path.basename(f))); }
        fs.rmSync(this.configFile, { force: true });
        const r = spawnSync("pulumi", ["stack", "init", this.stack, "--secrets-provider", "passphrase", "--non-interactive"],
            { cwd: this.root, env: this.env, encoding: "utf8" });
        if (r.status !== 0) { throw new Error(`pulumi stack init ${this.stack} failed:\n${r.stdout}${r.stderr}`); }
        this.salt = (yaml.load(fs.readFileSync(this.configFile, "utf8")) as { encryptionsalt?: string } | null)?.encryptionsalt ?? "";
        this.setConfig({});
    }

    /** Writes the stack's config: the e2e stack's values, the suite's pod folder, then `extra`. */
    setConfig(extra: Record<string, unknown>): void {
        const e2e = yaml.load(fs.readFileSync(path.join(this.root, "Pulumi.e2e.yaml"), "utf8")) as { config: Record<string, unknown> };
        const config: Record<string, unknown> = { ...e2e.config, "podnet-lab:pods": [this.podsDir] };
        for (const [k, v] of Object.entries(extra)) { config[`podnet-lab:${k}`] = v; }
        fs.writeFileSync(this.configFile, yaml.dump({ ...(this.salt ? { encryptionsalt: this.salt } : {}), config }));
    }

    writePod(name: string, text: string): void { fs.writeFileSync(path.join(this.podsDir, `${name}.yaml`), text); }
    removePod(name: string): void { fs.rmSync(path.join(this.podsDir, `${name}.yaml`)); }
    readPod(name: string): string { return fs.readFileSync(path.join(this.podsDir, `${name}.yaml`), "utf8"); }

    up(): CliRun { return this.run(["up", "--yes", "--skip-preview"]); }
    preview(expectNoChanges: boolean): CliRun { return this.run(["preview", ...(expectNoChanges ? ["--expect-no-changes"] : [])]); }
    destroy(): CliRun { return this.run(["destroy", "--yes", "--skip-preview"]); }

    /** `pulumi stack output --json`, also written where the claims read it. */
    outputs(): LabOutputs {
        const r = this.run(["stack", "output", "--json", "--show-secrets"]);
        if (r.status !== 0) { throw new Error(`pulumi stack output failed:\n${r.output}`); }
        // Mode 0600: with --show-secrets, cluster mode's outputs hold the admin kubeconfig.
        fs.writeFileSync(this.outputsFile, r.output.slice(r.output.indexOf("{")), { mode: 0o600 });
        return JSON.parse(fs.readFileSync(this.outputsFile, "utf8")) as LabOutputs;
    }

    /** Removes the stack and its files (after a destroy, or with --force when something is left). */
    remove(force: boolean): void {
        spawnSync("pulumi", ["stack", "rm", this.stack, "--yes", "--non-interactive", ...(force ? ["--force"] : [])], { cwd: this.root, env: this.env });
        fs.rmSync(this.configFile, { force: true });
        fs.rmSync(this.backend, { recursive: true, force: true });
    }
}

/** The `Resources:` block of an up or preview: counts by operation, e.g. { created: 4, replaced: 1, unchanged: 60 }. */
export function changeSummary(output: string): Record<string, number> {
    const block = output.slice(output.lastIndexOf("Resources:"));
    const counts: Record<string, number> = {};
    for (const m of block.matchAll(/^\s*(?:[-+~]+\s*)?(\d+) (created|updated|deleted|replaced|unchanged|to create|to update|to delete|to replace)\b/gm)) {
        counts[m[2].replace(/^to /, "")] = Number(m[1]);
    }
    return counts;
}
