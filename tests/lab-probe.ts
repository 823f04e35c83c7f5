// Looking at a running lab from the outside, as a learner would: `docker exec` into nodes and pod containers.
// Shared by the claims (tests/e2e/claims.e2e.ts) and the real-CLI lifecycle suite (tests/real/).
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CNI_NETWORK, IPAM_DATA_DIR } from "../plan/cni";
import { assertNever } from "../plan/errors";
import { LabOutputs } from "../plan/outputs";

export const docker = (...args: string[]): string =>
    execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 }).trim();

export function readOutputs(file: string): LabOutputs {
    assert.ok(fs.existsSync(file), `no ${file}: bring the lab up first`);
    return JSON.parse(fs.readFileSync(file, "utf8")) as LabOutputs;
}

/** Where the CNI's IPAM (host-local) keeps one file per handed-out IP, on every node. */
export const IPAM_DIR = `${IPAM_DATA_DIR}/${CNI_NETWORK}`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it gives a value (errors count as not yet), or fails after `limit` seconds naming the last error. */
export async function until<T>(what: string, limit: number, probe: () => T | undefined | Promise<T | undefined>, everyMs = 300): Promise<T> {
    const t0 = Date.now();
    let last: unknown;
    while (Date.now() - t0 < limit * 1000) {
        try { const v = await probe(); if (v !== undefined) { return v; } } catch (e) { last = e; }
        await sleep(everyMs);
    }
    return assert.fail(`${what}: not within ${limit}s${last ? ` (${(last as Error).message.split("\n")[0]})` : ""}`);
}

export class LabProbe {
    constructor(public readonly out: LabOutputs, private readonly log: (line: string) => void = () => undefined) { }

    /** What a learner would check first: nodes running, bridges, routes, every pod's address, traffic across nodes. */
    whatIsBroken(): string | undefined {
        for (const n of this.out.nodes) {
            try {
                if (docker("inspect", "-f", "{{.State.Running}}", n.container) !== "true") { return `${n.name} is not running`; }
                const table = this.onNode(n.name, "ip", "route");
                const missing = n.routes.find((r) => !table.includes(`${r.to} via ${r.via}`));
                if (missing) { return `${n.name} lacks ${missing.to} via ${missing.via}`; }
                if (!this.onNode(n.name, "ip", "-4", "addr", "show", n.bridge).includes(`inet ${n.bridgeIp}/`)) { return `${n.name}'s bridge has no address`; }
            } catch (e) { return `${n.name}: ${(e as Error).message.split("\n")[0]}`; }
        }
        for (const p of this.out.pods) {
            try {
                for (const c of p.containers) {
                    if (this.eth0(p.name, c.name).inet?.split("/")[0] !== p.ip) { return `${p.name}/${c.name} does not have ${p.ip}`; }
                }
            } catch (e) { return `${p.name}: ${(e as Error).message.split("\n")[0]}`; }
        }
        const from = this.out.pods.find((p) => p.name === "pod-net-test");
        const web = this.out.pods.find((p) => p.containers.some((c) => c.name === "nginx") && p.node !== from?.node);
        try {
            if (from && web && !/^HTTP\/1\.[01] 200/.test(this.httpGet(from.name, "ubuntu", web.ip))) { return `pod-net-test does not reach ${web.name}`; }
        } catch (e) { return `pod-net-test -> ${web?.name}: ${(e as Error).message.split("\n")[0]}`; }
        return undefined;
    }

    /** Polls until nothing is broken; returns the seconds it took, or fails after `limit` seconds naming what is broken. */
    async healsWithin(limit: number, what: string): Promise<number> {
        const t0 = Date.now();
        let last: string | undefined = "not checked";
        while ((Date.now() - t0) / 1000 < limit) {
            last = this.whatIsBroken();
            if (!last) {
                const s = (Date.now() - t0) / 1000;
                this.log(`${what}: whole again after ${s.toFixed(1)}s`);
                return s;
            }
            await sleep(500);
        }
        assert.fail(`${what}: still broken after ${limit}s: ${last}`);
    }

    node(name: string) { const n = this.out.nodes.find((x) => x.name === name); assert.ok(n, `no node ${name}`); return n; }
    pod(name: string) { const p = this.out.pods.find((x) => x.name === name); assert.ok(p, `no pod ${name}`); return p; }

    /** Runs a command on a node (the DinD container). */
    onNode(node: string, ...cmd: string[]): string { return docker("exec", this.node(node).container, ...cmd); }

    /**
     * Kubelet or cluster mode: a real kubelet and containerd built the pods (not the node's Docker); podnet-kubelet on
     * the node finds them by the name kubelet gave them (kubelet mode: POD-NODE; cluster mode: POD).
     */
    get kubelet(): boolean {
        const r = this.out.podRuntime;
        switch (r) {
            case "docker": return false;
            case "kubelet": case "cluster": return true;
            default: return assertNever(r);
        }
    }

    /** Runs a command in a pod's container: through its node's Docker, or (kubelet mode) containerd's, as kubectl exec would. */
    inPod(pod: string, container: string, ...cmd: string[]): string {
        const p = this.pod(pod);
        const c = p.containers.find((x) => x.name === container);
        assert.ok(c, `no container ${container} in ${pod}`);
        if (this.kubelet) { return this.onNode(p.node, "podnet-kubelet", "exec", p.name, p.node, c.name, ...cmd); }
        return this.onNode(p.node, "docker", "exec", c.container, ...cmd);
    }

    /**
     * A pod's running containers, with their ids and processes: the sandbox (name POD) first. Docker mode from the
     * node's Docker, kubelet mode from containerd (podnet-kubelet containers).
     */
    containersOf(pod: string): { name: string; id: string; pid: string }[] {
        const p = this.pod(pod);
        const lines = this.kubelet ? this.onNode(p.node, "podnet-kubelet", "containers", p.name, p.node)
            : this.onNode(p.node, "sh", "-c", `docker ps -q --filter label=io.kubernetes.pod.name=${p.name} | xargs -r docker inspect -f '{{index .Config.Labels "io.kubernetes.container.name"}} {{.Id}} {{.State.Pid}}'`);
        return lines.split("\n").filter(Boolean).map((l) => { const [name, id, pid] = l.split(" "); return { name, id, pid }; })
            .sort((a, b) => (a.name === "POD" ? -1 : b.name === "POD" ? 1 : 0));
    }

    /** An HTTP GET with busybox nc from a pod container (busybox's wget segfaults). */
    httpGet(pod: string, container: string, host: string): string {
        return this.inPod(pod, container, "sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} 80`);
    }

    /**
     * Seconds from now until the start of the first try in which `pod`'s `container` gets an HTTP answer from `ip`,
     * trying again at once after each miss (each try waits 1 s at most for the answer); fails after `limit` seconds.
     * How long a pod's traffic is lost after a change: 0 when the first try is answered, however long the
     * `docker exec` into the pod takes on a busy machine; more than 1 s once a try has gone unanswered.
     */
    async firstAnswer(pod: string, container: string, ip: string, limit: number): Promise<number> {
        const t0 = Date.now();
        let last = "";
        while ((Date.now() - t0) / 1000 < limit) {
            const tryStarted = Date.now();
            try {
                last = this.inPod(pod, container, "sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 1 ${ip} 80`);
                if (/^HTTP\/1\.[01] 200/.test(last)) { return (tryStarted - t0) / 1000; }
            } catch (e) { last = (e as Error).message.split("\n")[0]; }
            await sleep(100);
        }
        return assert.fail(`${pod} got no answer from ${ip} within ${limit}s: ${last}`);
    }

    logsOf(pod: string, container: string): string {
        const p = this.pod(pod);
        if (this.kubelet) { return this.onNode(p.node, "podnet-kubelet", "logs", p.name, p.node, container); }
        return this.onNode(p.node, "sh", "-c", `docker logs ${p.containers.find((c) => c.name === container)!.container} 2>&1`);
    }

    eth0(pod: string, container: string): { inet?: string; mac?: string } {
        const text = this.inPod(pod, container, "ip", "addr", "show", "eth0");
        return { inet: /inet (\S+)/.exec(text)?.[1], mac: /link\/ether (\S+)/.exec(text)?.[1] };
    }

    /** The host end of a pod's veth on its node, found from the kernel: the peer index of the pod's eth0. */
    hostVeth(pod: string): string | undefined {
        const p = this.pod(pod);
        const peerIndex = this.onNode(p.node, "ip", "netns", "exec", p.name, "cat", "/sys/class/net/eth0/iflink");
        return /^\d+: ([^@:]+)/.exec(this.onNode(p.node, "sh", "-c", `ip -o link | grep '^${peerIndex}: ' || true`))?.[1];
    }

    /** What a node holds of a pod, by name: veths, the named netns, IPAM records of the given IP, containers. */
    traces(node: string, pod: string, ip?: string): string[] {
        const found: string[] = [];
        if (this.onNode(node, "ip", "netns", "list").split("\n").some((l) => l.split(" ")[0] === pod)) { found.push(`netns ${pod}`); }
        if (ip && this.onNode(node, "sh", "-c", `test -e ${IPAM_DIR}/${ip} && echo yes || echo no`) === "yes") { found.push(`IPAM record ${ip}`); }
        const containers = this.kubelet ? this.onNode(node, "sh", "-c", `podnet-kubelet containers ${pod} ${node} | cut -d' ' -f1,2`)
            : this.onNode(node, "docker", "ps", "-a", "--format", "{{.Names}}", "--filter", `label=io.kubernetes.pod.name=${pod}`);
        if (containers) { found.push(...containers.split("\n").map((c) => `container ${c}`)); }
        return found;
    }

    /** IPs a node's IPAM has handed out (one file each). */
    ipamRecords(node: string): string[] {
        return this.onNode(node, "sh", "-c", `cd ${IPAM_DIR} 2>/dev/null && ls -1 | grep -v -e lock -e last_reserved || true`)
            .split("\n").filter(Boolean).sort();
    }

    /** Host ends of pod veths on a node's bridge. */
    bridgeVeths(node: string): string[] {
        const n = this.node(node);
        return this.onNode(node, "sh", "-c", `ip -o link show master ${n.bridge} | awk -F': ' '{print $2}' | cut -d@ -f1`)
            .split("\n").filter(Boolean).sort();
    }
}

export interface ClaimsRun { readonly ok: boolean; readonly summary: string; readonly failures: string; }

/**
 * Runs the claims (tests/e2e/claims.e2e.ts) on the lab whose outputs are in `outputsFile`, in a child test run.
 * `skipS10` says why S10 (which destroys a pod through the stand-in) is skipped. `suite`: another suite of
 * tests/e2e/ to run the same way (vxlan.e2e.js, on a lab in the overlay model). `labRoot`: the project folder the
 * lab's program ran in (another clone's), where its relative outputs resolve. `skipS5`: why S5 is skipped, if it is.
 */
export function runClaims(outputsFile: string, skipS10: string, suite = "claims.e2e.js", labRoot?: string, skipS5?: string): ClaimsRun {
    // Without NODE_TEST_CONTEXT, which node's runner sets: with it, the child would report in the runner's binary format.
    const env: NodeJS.ProcessEnv = { ...process.env, PODNET_OUTPUTS: outputsFile, PODNET_CLAIMS_SKIP_S10: skipS10, ...(labRoot ? { PODNET_LAB_ROOT: labRoot } : {}),
        ...(skipS5 ? { PODNET_CLAIMS_SKIP_S5: skipS5 } : {}) };
    delete env.NODE_TEST_CONTEXT;
    const claims = path.join(__dirname, "e2e", suite);
    const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", claims], { encoding: "utf8", env });
    const counts = /# pass (\d+)[\s\S]*# fail (\d+)/.exec(r.stdout ?? "");
    return {
        ok: r.status === 0 && !!counts && Number(counts[1]) > 0,
        summary: counts ? `${counts[1]} passed, ${counts[2]} failed` : "ran no test",
        failures: `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n").filter((l) => /not ok|Error|expected|actual/.test(l)).slice(0, 40).join("\n"),
    };
}
