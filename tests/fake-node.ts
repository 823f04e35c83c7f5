// A lab node faked in a scratch folder, for tests/node-contract.test.ts: the node scripts (node/bin/*, node/cni/*) are
// installed under a root folder where the node init would put them (plan/load.ts readNodeScripts), and run with
// PODNET_ROOT (node/bin/podnet-lib) set to that folder, so every path they use is taken under it. The tools that
// would change the machine (`ip`, `iptables`, `bridge`, `docker`, `ctr`, ...) are stand-ins on PATH that record
// their argv and answer what the test tells them. A host-side `docker exec NODE CMD...` runs CMD "inside the node":
// here, with the same PATH and root, marked as the node's in the record. Nothing runs as a real tool of the host.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readNodeScripts, projectRoot } from "../plan/load";

/** The tools the scripts call that would touch the machine: each is a recording stand-in. */
export const STUBBED = ["ip", "iptables", "bridge", "docker", "ctr", "busybox", "kubelet", "containerd", "dockerd", "mount", "hostname", "kubectl", "pkill", "pgrep", "setsid", "kube-proxy"];

/** One call of a stand-in: where it ran (`host`, or the node container's name), the tool, its arguments. */
export interface Call { readonly where: string; readonly tool: string; readonly args: readonly string[]; }
/** A call as one line: "iptables -t nat -A PODNET-MASQ -j MASQUERADE". */
export const line = (c: Call) => [c.tool, ...c.args].join(" ");

/** The stand-ins (shell, so that they run as the tools would): tests/stubs/tool and tests/stubs/cni-plugin. */
const stub = (name: string) => fs.readFileSync(path.join(projectRoot(), "tests", "stubs", name), "utf8");

export interface RunResult { readonly status: number | null; readonly stdout: string; readonly stderr: string; }

export class FakeNode {
    readonly dir: string;
    /** PODNET_ROOT: the node's filesystem, as far as the scripts are concerned. */
    readonly root: string;
    private readonly stubs: string;
    private readonly answers: string;
    private readonly callsFile: string;
    /** Environment of every run on top of the basics (e.g. the node container's PODNET_POD_RUNTIME). */
    env: Record<string, string> = {};
    /** Where to find the host's tools (sh, sed, jq, flock, ...), after the stand-ins and the node scripts. */
    systemPath = process.env.PATH ?? "/usr/bin:/bin";

    constructor() {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "podnet-contract-"));
        this.root = path.join(this.dir, "root");
        this.stubs = path.join(this.dir, "stubs");
        this.answers = path.join(this.dir, "answers");
        this.callsFile = path.join(this.dir, "calls");
        for (const d of [this.root, this.stubs, this.answers]) { fs.mkdirSync(d, { recursive: true }); }
        for (const s of readNodeScripts(projectRoot())) { this.write(s.file, s.content, 0o755); }
        const tool = stub("tool");
        for (const t of STUBBED) { fs.writeFileSync(path.join(this.stubs, t), tool, { mode: 0o755 }); }
        fs.writeFileSync(this.callsFile, "");
    }

    /** The host path of a path inside the node. */
    at(p: string): string { return path.join(this.root, p); }
    write(p: string, content: string, mode = 0o644): void {
        fs.mkdirSync(path.dirname(this.at(p)), { recursive: true });
        fs.writeFileSync(this.at(p), content, { mode });
    }
    read(p: string): string { return fs.readFileSync(this.at(p), "utf8"); }
    /** Whether the path is there (a symbolic link counts, wherever it points). */
    exists(p: string): boolean { try { fs.lstatSync(this.at(p)); return true; } catch { return false; } }

    /** What TOOL answers from now on: a sh fragment run with the call's arguments (`case "$*" in ...`). */
    answer(tool: string, fragment: string): void { fs.writeFileSync(path.join(this.answers, tool), fragment); }
    clearAnswers(): void { for (const f of fs.readdirSync(this.answers)) { fs.rmSync(path.join(this.answers, f)); } }
    /** Puts a recording CNI plugin stand-in in place of TYPE in the node's plugin folder; ANSWER: its answers/cni-TYPE. */
    plugin(binDir: string, type: string, answer: string): void {
        this.write(`${binDir}/${type}`, stub("cni-plugin"), 0o755);
        this.answer(`cni-${type}`, answer);
    }

    /** Runs a command line on the host, as a Command resource would (`sh -c`), with STDIN. */
    run(command: string, stdin = "", extraEnv: Record<string, string> = {}): RunResult {
        const r = spawnSync("sh", ["-c", command], {
            input: stdin, encoding: "utf8", timeout: 20_000,
            env: {
                PATH: `${this.stubs}:${this.at("/usr/local/bin")}:${this.systemPath}`, LANG: "C", HOME: this.dir,
                PODNET_ROOT: this.root, STUB_CALLS: this.callsFile, STUB_ANSWERS: this.answers, ...this.env, ...extraEnv,
            },
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    }
    /** Runs a command line and fails the test (with its output) unless it exits 0. */
    ok(command: string, stdin = "", extraEnv: Record<string, string> = {}): string {
        const r = this.run(command, stdin, extraEnv);
        if (r.status !== 0) { throw new Error(`exit ${r.status}: ${command}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`); }
        return r.stdout;
    }

    /** The calls since the last take(), in order; forgets them. */
    take(): Call[] {
        const text = fs.readFileSync(this.callsFile, "utf8");
        fs.writeFileSync(this.callsFile, "");
        return text.split("\x1e").filter((r) => r.length > 0).map((r) => {
            const [where, tool, ...args] = r.split("\x1f");
            return { where, tool, args };
        });
    }

    remove(): void { fs.rmSync(this.dir, { recursive: true, force: true }); }
}

/** The calls that change something: `ip` and `bridge` other than show/get, iptables other than -L/-C/-S. */
export function changes(calls: readonly Call[]): string[] {
    return calls.filter((c) => {
        if (c.tool === "ip" || c.tool === "bridge") { return !c.args.some((a) => a === "show" || a === "get"); }
        if (c.tool === "iptables") { return !c.args.some((a) => a === "-L" || a === "-C" || a === "-S"); }
        return false;
    }).map(line);
}
