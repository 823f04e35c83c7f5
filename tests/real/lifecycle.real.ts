// The lab's whole life under a real `pulumi` CLI, on its own stack ("real") with a local file backend:
// up from nothing, no-change preview, add a pod, edit a container, move a pod, remove a pod, nodeCount 3 -> 4 -> 3,
// node restarts (no deploy), a node removed by hand (up --refresh), podNetwork docker0 and back, vxlan and back, the CNI
// plugin swapped (cniPlugin bridge) and back, podRuntime kubelet (a pod edited and removed there) and back, podRuntime
// cluster (a real control plane; a pod edited, added and removed; the control plane restarted) and back, destroy, and
// destroy from a broken lab. After each step the claims (tests/e2e/claims.e2e.ts) are checked from outside.
// Run by tests/real/run.ts, which skips it, saying why, when no CLI and plugins are present.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it, TestContext } from "node:test";
import { manualLabPath, timeManualLab } from "../../bench/manual";
import { contains, ipToNumber, parseCidr } from "../../plan/ip";
import { projectRoot } from "../../plan/load";
import { LabOutputs } from "../../plan/outputs";
import { docker, LabProbe, runClaims } from "../lab-probe";
import { kubectl } from "../e2e/state";
import { changeSummary, CliRun, RealStack } from "./stack";

const root = projectRoot();
const STACK = "real";
const stack = new RealStack(root, STACK);
const timings: { step: string; seconds: number; summary: string }[] = [];
let broken = "";
let out: LabOutputs;
let lab: LabProbe;

const log = (line: string) => process.stdout.write(`# test:real: ${line}\n`);
const summary = (r: CliRun) => Object.entries(changeSummary(r.output)).map(([k, v]) => `${v} ${k}`).join(", ");

/** One pulumi command that must succeed; its change summary and time are recorded. */
function pulumi(step: string, r: CliRun): Record<string, number> {
    if (r.status !== 0) { throw new Error(`${step}: pulumi exited ${r.status}:\n${r.output.slice(-6000)}`); }
    timings.push({ step, seconds: r.seconds, summary: summary(r) });
    log(`${step}: ${summary(r) || "no changes"} in ${r.seconds.toFixed(1)}s`);
    return changeSummary(r.output);
}

function refresh(): void {
    out = stack.outputs();
    lab = new LabProbe(out, log);
}

/** The claims, from outside the program, on the lab as it is now. */
function claimsHold(step: string): void {
    const c = runClaims(stack.outputsFile, "S10 is checked by removing a pod with pulumi up");
    log(`${step}: claims: ${c.summary}`);
    assert.ok(c.ok, `claims failed after ${step}:\n${c.failures}`);
}

/** Where each pod is and what it holds: node, IP, sandbox container id. */
function placement(): Map<string, { node: string; ip: string; sandboxId: string }> {
    return new Map(out.pods.map((p) => [p.name, {
        node: p.node, ip: p.ip, sandboxId: lab.onNode(p.node, "docker", "inspect", "-f", "{{.Id}}", p.sandbox),
    }]));
}

/** Each step runs only if every earlier one passed: later steps build on the lab the earlier ones made. */
function step(name: string, fn: () => void | Promise<void>): void {
    it(name, async (t: TestContext) => {
        if (broken) { t.skip(`an earlier step failed (${broken})`); return; }
        try { await fn(); } catch (e) { broken = name; throw e; }
    });
}

async function restartAndHeal(containers: string[]): Promise<void> {
    docker("restart", "-t", "1", ...containers);
    const s = await lab.healsWithin(30, `docker restart ${containers.join(" ")}`);
    timings.push({ step: `heal after restarting ${containers.length} node(s)`, seconds: s, summary: "no deploy" });
}

/** A pod's rendered manifest, as the render-only Kubernetes provider wrote it. */
function manifest(pod: string): string {
    return fs.readFileSync(path.join(root, "rendered", STACK, "1-manifest", `v1-pod-default-${pod}.yaml`), "utf8");
}

/** The names of the resources in the stack's state (`pulumi stack export`). */
function stateNames(): string[] {
    const r = stack.run(["stack", "export"]);
    assert.equal(r.status, 0, r.output);
    const state = JSON.parse(r.output.slice(r.output.indexOf("{"))) as { deployment: { resources?: { urn: string }[] } };
    return (state.deployment.resources ?? []).map((x) => x.urn.split("::").pop() ?? "");
}

function nothingLeft(): void {
    assert.deepEqual(stack.leftBehind(), [], "left with the stack's label");
}

const podYaml = (name: string, nodeName?: string, env?: Record<string, string>) => [
    // (a web pod keeps the label the Service web picks it by)
    "apiVersion: v1", "kind: Pod", `metadata: {name: ${name}${name.startsWith("web-") ? ", labels: {app: web}" : ""}}`, "spec:",
    ...(nodeName ? [`  nodeName: ${nodeName}`] : []),
    "  containers:", "    - name: nginx", "      image: nginx:1.27", "      ports: [{containerPort: 80}]",
    ...(env ? ["      env:", ...Object.entries(env).map(([k, v]) => `        - {name: ${k}, value: "${v}"}`)] : []),
    "",
].join("\n");

describe(`the lab's life under a real pulumi CLI (stack ${STACK})`, () => {
    before(() => {
        const pods = fs.readdirSync(path.join(root, "pods")).filter((f) => f.endsWith(".yaml")).map((f) => path.join(root, "pods", f));
        stack.init(pods);
        log(`stack ${STACK}: backend ${stack.backend}, pods from ${path.relative(root, stack.podsDir)}`);
    });

    step("up from nothing: the claims hold", () => {
        const c = pulumi("up from nothing", stack.up());
        assert.ok(c.created > 0 && !c.replaced && !c.deleted, JSON.stringify(c));
        refresh();
        claimsHold("up from nothing");
    });

    step("preview --expect-no-changes right after: no spurious diffs", () => {
        pulumi("no-change preview", stack.preview(true));
    });

    step("add a pod that sorts first: no other pod's node, IP or sandbox changes", () => {
        const before = placement();
        stack.writePod("aaa", podYaml("aaa"));
        const c = pulumi("add pod aaa", stack.up());
        assert.ok(!c.replaced && !c.deleted && !c.updated, `adding a pod touched others: ${JSON.stringify(c)}`);
        refresh();
        assert.deepEqual(new Map([...placement()].filter(([n]) => n !== "aaa")), before);
        const aaa = lab.pod("aaa");
        assert.ok(contains(parseCidr(lab.node(aaa.node).podCidr)!, ipToNumber(aaa.ip)!), `aaa's ${aaa.ip} is outside ${aaa.node}'s subnet`);
        claimsHold("add pod aaa");
    });

    step("edit a container: only that container is replaced; the pod keeps its sandbox and IP", () => {
        const before = placement();
        stack.writePod("web-3", podYaml("web-3", "node3", { GREETING: "hello" }));
        const c = pulumi("edit web-3's container", stack.up());
        assert.deepEqual({ replaced: c.replaced, created: c.created ?? 0, deleted: c.deleted ?? 0 }, { replaced: 2, created: 0, deleted: 0 },
            "web-3-nginx and web-3-manifest are replaced, nothing else");
        refresh();
        assert.deepEqual(placement(), before);
        assert.match(lab.onNode("node3", "docker", "inspect", "-f", "{{json .Config.Env}}", "k8s_nginx_web-3"), /"GREETING=hello"/);
        assert.match(manifest("web-3"), /GREETING/, "the replaced manifest was written, and not deleted as the old one");
        claimsHold("edit web-3");
    });

    step("move a pod to another node: it works there, and nothing of it is left on the old node", () => {
        const before = placement();
        const old = before.get("web-2")!;
        assert.equal(old.node, "node2");
        stack.writePod("web-2", podYaml("web-2", "node3"));
        pulumi("move web-2 to node3", stack.up());
        refresh();
        assert.equal(lab.pod("web-2").node, "node3");
        assert.deepEqual(lab.traces("node2", "web-2", old.ip), [], "web-2 left traces on node2");
        assert.deepEqual(lab.bridgeVeths("node2"), [], "node2 has no pod left, so no veth on its bridge");
        assert.deepEqual(lab.ipamRecords("node2"), [], "node2's IPAM released web-2's address");
        assert.match(lab.httpGet("pod-net-test", "ubuntu", lab.pod("web-2").ip), /^HTTP\/1\.[01] 200/);
        for (const [name, p] of placement()) { if (name !== "web-2") { assert.deepEqual(p, before.get(name), `${name} changed`); } }
        assert.match(manifest("web-2"), /nodeName: node3/, "the moved pod's manifest survives its replacement");
        claimsHold("move web-2");
    });

    step("remove a pod (S10): its containers, veth, namespace and IPAM record are gone", () => {
        const gone = lab.pod("web-2");
        const veth = lab.hostVeth("web-2");
        assert.ok(veth, "web-2 has a veth before");
        stack.removePod("web-2");
        const c = pulumi("remove web-2", stack.up());
        assert.ok(c.deleted > 0 && !c.created && !c.replaced, JSON.stringify(c));
        refresh();
        assert.deepEqual(lab.traces(gone.node, "web-2", gone.ip), []);
        assert.ok(!lab.bridgeVeths(gone.node).includes(veth!), `${veth} is still on ${gone.node}'s bridge`);
        assert.equal(lab.bridgeVeths(gone.node).length, out.pods.filter((p) => p.node === gone.node).length);
        claimsHold("remove web-2");
    });

    // Each old node's routes are one resource (its table): the preview's diff names the one route added or removed on it.
    const tableLines = (output: string, sign: "+" | "-") => output.split("\n").filter((l) => new RegExp(`^\\s+\\${sign} 10\\.244\\.4\\.0/24 via 192\\.168\\.1\\.14$`).test(l)).length;

    step("nodeCount 3 -> 4: node4 joins, the preview names the route added on each old node, every node routes to every peer, only pods placed on node4 move", () => {
        const before = placement();
        stack.setConfig({ nodeCount: 4 });
        const diff = stack.run(["preview", "--diff"]);
        assert.equal(diff.status, 0, diff.output);
        assert.equal(tableLines(diff.output, "+"), 3, `each old node's table gains "10.244.4.0/24 via 192.168.1.14":\n${diff.output.slice(-3000)}`);
        const c = pulumi("nodeCount 3 -> 4", stack.up());
        assert.equal(c.updated, 3, `the three old nodes' tables are updated, not replaced: ${JSON.stringify(c)}`);
        refresh();
        assert.deepEqual(out.nodes.map((n) => n.name), ["node1", "node2", "node3", "node4"]);
        for (const n of out.nodes.slice(0, 3)) { assert.ok(lab.onNode(n.name, "ip", "route").includes("10.244.4.0/24 via 192.168.1.14 "), `${n.name} does not route node4's subnet`); }
        for (const [name, p] of placement()) {
            if (p.node !== "node4") { assert.deepEqual(p, before.get(name), `${name} changed`); }
        }
        claimsHold("nodeCount 4");
    });

    step("nodeCount 4 -> 3: nothing of node4 is left, no node routes to its subnet", () => {
        const node4 = lab.node("node4");
        stack.setConfig({ nodeCount: 3 });
        const diff = stack.run(["preview", "--diff"]);
        assert.equal(diff.status, 0, diff.output);
        assert.equal(tableLines(diff.output, "-"), 3, `each old node's table loses "10.244.4.0/24 via 192.168.1.14":\n${diff.output.slice(-3000)}`);
        const c = pulumi("nodeCount 4 -> 3", stack.up());
        assert.equal(c.updated, 3, JSON.stringify(c));
        refresh();
        assert.equal(docker("ps", "-a", "-q", "--filter", `name=^${node4.container}$`), "");
        assert.equal(docker("volume", "ls", "-q", "--filter", `name=${node4.container}-`), "");
        for (const n of out.nodes) { assert.ok(!lab.onNode(n.name, "ip", "route").includes(node4.podCidr), `${n.name} still routes ${node4.podCidr}`); }
        claimsHold("nodeCount 3");
        pulumi("no-change preview after the changes", stack.preview(true));
    });

    step("nodes restarted (one, then two at once): whole again with no deploy; then preview is empty and up succeeds", async () => {
        await restartAndHeal([lab.node("node3").container]);
        await restartAndHeal([lab.node("node1").container, lab.node("node2").container]);
        claimsHold("nodes restarted");
        pulumi("preview after the restarts", stack.preview(true));
        const c = pulumi("up after the restarts", stack.up());
        assert.ok(!c.created && !c.replaced && !c.deleted && !c.updated, JSON.stringify(c));
    });

    step("a node removed by hand: pulumi up --refresh rebuilds it and its pods; the claims hold", () => {
        const node = lab.node("node3");
        const pods = out.pods.filter((p) => p.node === "node3").map((p) => p.name).sort();
        assert.ok(pods.length > 0, "node3 runs pods");
        docker("rm", "-f", "-v", node.container);
        pulumi("up --refresh after node3 was removed", stack.run(["up", "--yes", "--skip-preview", "--refresh"]));
        refresh();
        assert.deepEqual(out.pods.filter((p) => p.node === "node3").map((p) => p.name).sort(), pods);
        claimsHold("node3 rebuilt");
    });

    step("podNetwork docker0 and back: the 'before' state fails the cockpit's matrix, the model passes it again", () => {
        const cockpit = (...args: string[]) => spawnSync(process.execPath, [path.join(root, "build", "cockpit", "main.js"), ...args, "--outputs", stack.outputsFile], { encoding: "utf8" });
        stack.setConfig({ podNetwork: "docker0" });
        pulumi("podNetwork lab -> docker0", stack.up());
        refresh();
        assert.equal(out.nodes.every((n) => n.routes.length === 0), true);
        for (const n of out.nodes) { assert.ok(!lab.onNode(n.name, "ip", "route").includes("10.244."), `${n.name} still routes pod subnets`); }
        const before = cockpit("matrix");
        log(`docker0: matrix exit ${before.status}: ${(before.stdout.match(/UNEXPECTED/g) ?? []).length} unexpected pairs`);
        assert.equal(before.status, 1, before.stdout);
        stack.setConfig({});
        pulumi("podNetwork docker0 -> lab", stack.up());
        refresh();
        const after = cockpit("matrix");
        assert.equal(after.status, 0, after.stdout + after.stderr);
        claimsHold("back to the lab's pod network");
    });

    step("podNetwork lab -> vxlan -> lab: the whole lab moves to the overlay and back; the claims hold in both, and neither model's routes are left", () => {
        const lanRoutes = () => out.nodes.flatMap((n) => lab.onNode(n.name, "ip", "route").split("\n")
            .filter((l) => out.nodes.some((p) => p.name !== n.name && l.startsWith(`${p.podCidr} `))).map((l) => `${n.name}: ${l.trim()}`));
        stack.setConfig({ podNetwork: "vxlan" });
        const toOverlay = pulumi("podNetwork lab -> vxlan", stack.up());
        assert.ok(!toOverlay.updated, JSON.stringify(toOverlay));
        refresh();
        const overlayRoutes = lanRoutes();
        assert.equal(overlayRoutes.length, 6, overlayRoutes.join("\n"));
        assert.ok(overlayRoutes.every((l) => / via 10\.244\.\d+\.0 dev vxlan\.1 onlink$/.test(l)), `a route is not the overlay's:\n${overlayRoutes.join("\n")}`);
        claimsHold("podNetwork vxlan");
        const v = runClaims(stack.outputsFile, "", "vxlan.e2e.js");
        log(`podNetwork vxlan: the overlay's own checks: ${v.summary}`);
        assert.ok(v.ok, `the overlay's checks failed:\n${v.failures}`);
        stack.setConfig({});
        pulumi("podNetwork vxlan -> lab", stack.up());
        refresh();
        const routed = lanRoutes();
        assert.ok(routed.length === 6 && routed.every((l) => / via 192\.168\.1\.\d+ dev eth0$/.test(l)), `routes after the switch back:\n${routed.join("\n")}`);
        for (const n of out.nodes) {
            assert.match(lab.onNode(n.name, "sh", "-c", "ip link show vxlan.1 2>&1 || true"), /does not exist/, `${n.name} still has vxlan.1`);
        }
        for (const p of out.pods) { assert.match(lab.inPod(p.name, p.containers[0].name, "ip", "link", "show", "eth0"), / mtu 1500 /, p.name); }
        claimsHold("back to the routed model");
        pulumi("no-change preview after the switches", stack.preview(true));
    });

    step("cniPlugin podnet -> bridge -> podnet: the same pods wired again by the reference plugin and back; the claims and the CNI checks hold in both, a node restart heals under bridge", async () => {
        /** Each node's conflist plugin, and the plugin of each pod's last logged ADD. */
        const plugins = () => ({
            conflists: out.nodes.map((n) => JSON.parse(lab.onNode(n.name, "cat", "/etc/cni/net.d/10-podnet.conflist")).plugins[0].type as string),
            pods: out.pods.map((p) => JSON.parse(lab.onNode(p.node, "podnet-cni", "LAST", p.name).split("\n")[0]).plugin as string),
        });
        const before = placement();
        for (const plugin of ["bridge", "podnet"]) {
            stack.setConfig(plugin === "podnet" ? {} : { cniPlugin: plugin });
            const c = pulumi(`cniPlugin -> ${plugin}`, stack.up());
            assert.equal(c.replaced, out.nodes.length + out.pods.length, `each node's conflist and each pod's network are replaced: ${JSON.stringify(c)}`);
            assert.ok(!c.created && !c.deleted, JSON.stringify(c));
            refresh();
            assert.equal(out.cniPlugin, plugin);
            const seen = plugins();
            assert.deepEqual(seen, { conflists: out.nodes.map(() => plugin), pods: out.pods.map(() => plugin) }, "every pod's last ADD ran the new plugin");
            assert.deepEqual(placement(), before, "the same pods: same nodes, sandboxes and IPs (a re-wired sandbox asks IPAM for its address again)");
            for (const n of out.nodes) {
                const ips = out.pods.filter((p) => p.node === n.name).map((p) => p.ip).sort();
                assert.deepEqual(lab.ipamRecords(n.name), ips, `${n.name}: one address record per pod, none left by the old plugin`);
                assert.equal(lab.onNode(n.name, "sh", "-c", "ls /var/lib/cni/results | wc -l"), String(ips.length), `${n.name}: one cached result per pod`);
            }
            claimsHold(`cniPlugin ${plugin}`);
            const cni = runClaims(stack.outputsFile, "", "cni.e2e.js");
            log(`cniPlugin ${plugin}: the CNI checks (cnitool, the reference plugin side by side, bad calls, the runtime's call): ${cni.summary}`);
            assert.ok(cni.ok, `the CNI checks failed:\n${cni.failures}`);
            if (plugin === "bridge") {
                await restartAndHeal([lab.node("node2").container]);
                claimsHold("node2 restarted under the bridge plugin");
            }
        }
        pulumi("no-change preview after the plugin switches", stack.preview(true));
    });

    step("podRuntime docker -> kubelet -> docker: the same pods built by a real kubelet and containerd, and back; under kubelet a pod edited or removed is its manifest rewritten or removed (containerd's CNI DEL); the claims hold in both", () => {
        stack.setConfig({ podRuntime: "kubelet" });
        const k = pulumi("podRuntime docker -> kubelet", stack.up());
        // The nodes are re-created (they run containerd and kubelet now), with what lives in them; each pod's manifest and
        // each node's kubelet step come. Each pod's own steps go with the old nodes (deletedWith: not run, not counted).
        assert.ok(k.replaced >= out.nodes.length && k.created === out.pods.length + out.nodes.length, JSON.stringify(k));
        assert.deepEqual(stateNames().filter((n) => /-(pause|net)$/.test(n)), [], "the pods' own steps are still in the state");
        refresh();
        assert.equal(out.podRuntime, "kubelet");
        for (const n of out.nodes) {
            assert.equal(lab.onNode(n.name, "docker", "ps", "-aq"), "", `${n.name}'s own Docker runs no pod`);
            assert.deepEqual(lab.onNode(n.name, "ls", "/etc/kubernetes/manifests").split("\n").filter(Boolean).sort(),
                out.pods.filter((p) => p.node === n.name).map((p) => `${p.name}.yaml`).sort());
        }
        claimsHold("podRuntime kubelet");
        pulumi("no-change preview in kubelet mode", stack.preview(true));

        stack.writePod("web-3", podYaml("web-3", "node3", { GREETING: "from-kubelet" }));
        const e = pulumi("edit web-3 under kubelet", stack.up());
        assert.deepEqual({ replaced: e.replaced, created: e.created ?? 0, deleted: e.deleted ?? 0 }, { replaced: 2, created: 0, deleted: 0 },
            "web-3-static and web-3-manifest are replaced, nothing else");
        refresh();
        assert.match(lab.inPod("web-3", "nginx", "env"), /GREETING=from-kubelet/);
        const klog = lab.onNode("node3", "grep", "-E", "SyncLoop (ADD|REMOVE).*default/web-3-node3", "/var/log/kubelet.log").split("\n");
        assert.deepEqual(klog.map((l) => /SyncLoop (ADD|REMOVE)/.exec(l)?.[1]).slice(-2), ["REMOVE", "ADD"], `kubelet's log:\n${klog.join("\n")}`);

        const gone = lab.pod("aaa");
        const sandbox = lab.containersOf("aaa").find((c) => c.name === "POD")?.id;
        stack.removePod("aaa");
        const r = pulumi("remove aaa under kubelet", stack.up());
        assert.ok(r.deleted > 0 && !r.created && !r.replaced, JSON.stringify(r));
        refresh();
        assert.deepEqual(lab.traces(gone.node, "aaa", gone.ip), []);
        const del = lab.onNode(gone.node, "sh", "-c", `grep -h '"CNI_COMMAND":"DEL"' /var/log/podnet-cni.log | grep -F '${sandbox}' | tail -n 1`);
        assert.match(del, /"caller":"containerd"/, `no CNI DEL by containerd for aaa's sandbox ${sandbox}`);
        claimsHold("kubelet: web-3 edited, aaa removed");

        stack.setConfig({});
        const d = pulumi("podRuntime kubelet -> docker", stack.up());
        assert.ok(d.replaced >= out.nodes.length && d.created >= out.pods.length * 3, JSON.stringify(d));
        assert.deepEqual(stateNames().filter((n) => /-(static|kubelet)$/.test(n)), [], "kubelet mode's steps are still in the state");
        refresh();
        assert.equal(out.podRuntime, "docker");
        for (const p of out.pods) { assert.match(lab.onNode(p.node, "docker", "inspect", "-f", "{{.State.Running}}", p.sandbox), /true/, p.name); }
        claimsHold("back to docker mode");
        pulumi("no-change preview after the runtime switches", stack.preview(true));
    });

    step("podRuntime docker -> cluster -> docker: a real control plane; the pods as Pod objects (kubectl agrees), one edited (replaced: kubelet's REMOVE then ADD) and one removed (containerd's CNI DEL); nodeCount 3 -> 4 -> 3 (the Nodes follow); the Service web edited, removed and added again; a web pod removed leaves its EndpointSlice and gets no more requests; the control plane restarted changes nothing; no private key in the state; the claims hold", async () => {
        stack.setConfig({ podRuntime: "cluster" });
        const c = pulumi("podRuntime docker -> cluster", stack.up());
        assert.ok(c.replaced >= out.nodes.length && c.created >= out.pods.length + out.nodes.length + 4, JSON.stringify(c));
        assert.deepEqual(stateNames().filter((n) => /-(pause|net|static|kubelet)$/.test(n)), [], "the other runtimes' pod steps are still in the state");
        refresh();
        assert.equal(out.podRuntime, "cluster");
        const kubeconfig = out.kubeconfig ?? "";
        const k = (...args: string[]) => kubectl(kubeconfig, args);
        const nodes = JSON.parse(await k("get", "nodes", "-o", "json")) as { items: { metadata: { name: string }; spec: { podCIDR: string } }[] };
        assert.deepEqual(nodes.items.map((n) => [n.metadata.name, n.spec.podCIDR]).sort(), out.nodes.map((n) => [n.name, n.podCidr]).sort());
        const pods = async () => (JSON.parse(await k("get", "pods", "-o", "json")) as { items: { metadata: { name: string; uid: string }; spec: { nodeName: string }; status: { podIP: string } }[] }).items;
        assert.deepEqual((await pods()).map((p) => [p.metadata.name, p.spec.nodeName, p.status.podIP]).sort(), out.pods.map((p) => [p.name, p.node, p.ip]).sort());
        // Secrets: the admin kubeconfig is in the state only encrypted (the kubeconfig output, the provider's input).
        const exported = stack.run(["stack", "export"]).output;
        const clientKey = /client-key-data: (\S+)/.exec(kubeconfig)?.[1] ?? "";
        assert.ok(clientKey.length > 40, "the kubeconfig holds a client key");
        assert.ok(!exported.includes(clientKey) && !/PRIVATE KEY/.test(exported), "a private key stands in plain text in the state");
        assert.match(stack.run(["stack", "output", "kubeconfig"]).output, /\[secret\]/);
        claimsHold("podRuntime cluster");
        pulumi("no-change preview in cluster mode", stack.preview(true));

        stack.writePod("web-3", podYaml("web-3", "node3", { GREETING: "from-the-api" }));
        const e = pulumi("edit web-3 under cluster", stack.up());
        assert.deepEqual({ replaced: e.replaced, created: e.created ?? 0, deleted: e.deleted ?? 0 }, { replaced: 2, created: 0, deleted: 0 },
            "web-3-pod (the Pod object) and web-3-manifest are replaced, nothing else");
        refresh();
        assert.match(await k("exec", "web-3", "-c", "nginx", "--", "env"), /GREETING=from-the-api/);
        const klog = lab.onNode("node3", "grep", "-E", "SyncLoop (ADD|REMOVE).*\"default/web-3\"", "/var/log/kubelet.log").split("\n");
        assert.deepEqual(klog.map((l) => /SyncLoop (ADD|REMOVE)/.exec(l)?.[1]).slice(-2), ["REMOVE", "ADD"], `kubelet's log:\n${klog.join("\n")}`);

        stack.writePod("bbb", podYaml("bbb"));
        pulumi("add bbb under cluster", stack.up());
        refresh();
        const gone = lab.pod("bbb");
        const sandbox = lab.containersOf("bbb").find((x) => x.name === "POD")?.id;
        stack.removePod("bbb");
        const r = pulumi("remove bbb under cluster", stack.up());
        assert.ok(r.deleted > 0 && !r.created && !r.replaced, JSON.stringify(r));
        refresh();
        assert.ok(!(await pods()).some((p) => p.metadata.name === "bbb"), "bbb's Pod object is gone");
        // Its namespace's name goes with the node agent's next pass (every 2 s).
        for (let i = 0; i < 20 && lab.traces(gone.node, "bbb", gone.ip).length; i++) { await new Promise((res) => setTimeout(res, 500)); }
        assert.deepEqual(lab.traces(gone.node, "bbb", gone.ip), []);
        const del = lab.onNode(gone.node, "sh", "-c", `grep -h '"CNI_COMMAND":"DEL"' /var/log/podnet-cni.log | grep -F '${sandbox}' | tail -n 1`);
        assert.match(del, /"caller":"containerd"/, `no CNI DEL by containerd for bbb's sandbox ${sandbox}`);
        claimsHold("cluster: web-3 edited, bbb added and removed");

        // Services: the Service web (pods/web-service.yaml) is applied with the pods; its claims (V1-V6) hold. Its port
        // edited is the same object updated (the same ClusterIP), answering on the new port; removed, its rules leave
        // every node; added again, the Services suite holds again. After each, the pods' claims and an empty preview.
        // (S5 is left out of those: it restarts pod-net-test's app container, and kubelet's back-off on a container
        // restarted again and again within minutes grows past what S5 waits for; it ran above, and runs again below.)
        const podClaimsHold = (what: string) => {
            const c = runClaims(stack.outputsFile, "S10 is checked by removing a pod with pulumi up", "claims.e2e.js", undefined,
                "it ran after the switch to cluster mode; restarted again within minutes, the container would wait out kubelet's back-off");
            log(`${what}: claims: ${c.summary}`);
            assert.ok(c.ok, `claims failed after ${what}:\n${c.failures}`);
        };
        const servicesHold = (what: string, podClaims = true) => {
            const v = runClaims(stack.outputsFile, "not run by the Services suite", "services.e2e.js");
            log(`${what}: the Services suite: ${v.summary}`);
            assert.ok(v.ok, `the Services suite failed after ${what}:\n${v.failures}`);
            if (podClaims) { podClaimsHold(what); }
        };
        const webService = (port: number) => ["apiVersion: v1", "kind: Service", "metadata: {name: web}",
            "spec: {type: NodePort, selector: {app: web}, ports: [{name: http, port: " + port + ", targetPort: 80, nodePort: 30080}]}", ""].join("\n");
        const ruleOf = (node: string) => lab.onNode(node, "iptables-save", "-t", "nat").split("\n").filter((l) => l.includes("default/web:http cluster IP") && l.startsWith("-A KUBE-SERVICES"));
        servicesHold("podRuntime cluster", false); // (the pods' claims ran just above)
        const ip = out.services.find((x) => x.name === "web")?.clusterIp;
        assert.ok(ip, "the outputs name web's ClusterIP");
        stack.writePod("web-service", webService(8080));
        const sv = pulumi("the Service web's port 80 -> 8080", stack.up());
        assert.deepEqual({ updated: sv.updated, created: sv.created ?? 0, deleted: sv.deleted ?? 0, replaced: sv.replaced ?? 0 }, { updated: 1, created: 0, deleted: 0, replaced: 0 }, "web-service updated in place");
        refresh();
        assert.equal(out.services[0].clusterIp, ip, "the same ClusterIP");
        assert.deepEqual(out.services[0].ports.map((p) => p.port), [8080]);
        for (let i = 0; i < 20 && !ruleOf("node1").some((l) => l.includes("--dport 8080")); i++) { await new Promise((res) => setTimeout(res, 250)); }
        assert.match(lab.inPod("pod-net-test", "ubuntu", "sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${ip} 8080`), /hello from podnet-lab web/);
        servicesHold("the Service web's port 80 -> 8080");
        pulumi("no-change preview after the Service's edit", stack.preview(true));
        stack.removePod("web-service");
        const rm = pulumi("the Service web removed", stack.up());
        assert.deepEqual({ deleted: rm.deleted, created: rm.created ?? 0, replaced: rm.replaced ?? 0 }, { deleted: 1, created: 0, replaced: 0 });
        refresh();
        assert.deepEqual(out.services, []);
        for (const n of out.nodes) {
            for (let i = 0; i < 20 && ruleOf(n.name).length; i++) { await new Promise((res) => setTimeout(res, 250)); }
            assert.deepEqual(ruleOf(n.name), [], `${n.name}: kube-proxy took web's rules away`);
        }
        podClaimsHold("the Service web removed");
        pulumi("no-change preview after the Service's removal", stack.preview(true));
        stack.writePod("web-service", webService(80));
        const back = pulumi("the Service web added again", stack.up());
        assert.deepEqual({ created: back.created, deleted: back.deleted ?? 0, replaced: back.replaced ?? 0 }, { created: 1, deleted: 0, replaced: 0 });
        refresh();
        servicesHold("the Service web added again");
        pulumi("no-change preview after the Service came back", stack.preview(true));

        // V4: a web pod removed by `pulumi up` leaves web's EndpointSlice (the controller-manager's) and every node's
        // rules (kube-proxy's), and no request goes to it after that; put back, it is an endpoint again.
        type Slices = { items: { endpoints?: { addresses: string[]; targetRef?: { name: string } }[] }[] };
        const inSlice = async () => (JSON.parse(await k("get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "json")) as Slices).items
            .flatMap((s) => (s.endpoints ?? []).map((e) => e.targetRef?.name ?? e.addresses[0])).sort();
        const web3 = lab.pod("web-3");
        const services = () => out.services; // (read afresh: \`out\` is narrowed above, where web was removed)
        const cip = services()[0].clusterIp;
        const dnatTo = (node: string) => lab.onNode(node, "iptables-save", "-t", "nat").split("\n").filter((l) => l.includes(`--to-destination ${web3.ip}:80`));
        // (the web pods now: web-2 was removed in an earlier step)
        const webPods = services()[0].endpoints.map((e) => e.pod).sort();
        const others = webPods.filter((p) => p !== "web-3");
        assert.ok(webPods.includes("web-3") && others.length > 0, `web's endpoints: ${webPods.join(", ")}`);
        assert.deepEqual(await inSlice(), webPods, "web's EndpointSlice = the outputs' endpoints");
        stack.removePod("web-3");
        const w = pulumi("web-3 removed while the Service web selects it", stack.up());
        assert.ok(w.deleted > 0 && !w.created && !w.replaced, JSON.stringify(w));
        refresh();
        assert.deepEqual(services()[0].endpoints.map((e) => e.pod).sort(), others, "the outputs' endpoints");
        for (let i = 0; i < 40 && (await inSlice()).includes("web-3"); i++) { await new Promise((res) => setTimeout(res, 250)); }
        assert.deepEqual(await inSlice(), others, "web-3 left web's EndpointSlice");
        for (const n of out.nodes) {
            for (let i = 0; i < 20 && dnatTo(n.name).length; i++) { await new Promise((res) => setTimeout(res, 250)); }
            assert.deepEqual(dnatTo(n.name), [], `${n.name}: kube-proxy took web-3's DNAT (${web3.ip}:80) away`);
        }
        const answered = new Map<string, number>();
        for (let i = 0; i < 30; i++) {
            const reply = lab.inPod("pod-net-test", "ubuntu", "sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${cip} 80`);
            const by = /hello from podnet-lab web \(([^)]+)\)/.exec(reply)?.[1] ?? "no answer";
            answered.set(by, (answered.get(by) ?? 0) + 1);
        }
        log(`30 requests to web's ClusterIP after web-3 left: ${[...answered].map(([p, n]) => `${p} ${n}`).join(", ")}`);
        assert.deepEqual([...answered.keys()].filter((p) => !others.includes(p)), [], `every request answered, by ${others.join(" or ")} only`);
        pulumi("no-change preview after web-3 left", stack.preview(true));
        // (the pods' claims are written around the sample pods, web-3 among them: they run once it is back)
        stack.writePod("web-3", podYaml("web-3", "node3", { GREETING: "from-the-api" }));
        const w3 = pulumi("web-3 back", stack.up());
        assert.ok(w3.created > 0 && !w3.deleted && !w3.replaced, JSON.stringify(w3));
        refresh();
        for (let i = 0; i < 40 && !(await inSlice()).includes("web-3"); i++) { await new Promise((res) => setTimeout(res, 250)); }
        assert.deepEqual(await inSlice(), webPods, "web-3 is in web's EndpointSlice again");
        servicesHold("web-3 back");
        pulumi("no-change preview after web-3 came back", stack.preview(true));

        // nodeCount 3 -> 4 -> 3: node4 joins (Ready, its subnet as podCIDR); then it leaves, and so does its Node.
        stack.setConfig({ podRuntime: "cluster", nodeCount: 4 });
        pulumi("nodeCount 3 -> 4 under cluster", stack.up());
        refresh();
        const four = JSON.parse(await k("get", "nodes", "-o", "json")) as { items: { metadata: { name: string }; spec: { podCIDR: string } }[] };
        assert.deepEqual(four.items.map((n) => [n.metadata.name, n.spec.podCIDR]).sort(), out.nodes.map((n) => [n.name, n.podCidr]).sort());
        claimsHold("cluster, 4 nodes");
        stack.setConfig({ podRuntime: "cluster" });
        pulumi("nodeCount 4 -> 3 under cluster", stack.up());
        refresh();
        assert.deepEqual((JSON.parse(await k("get", "nodes", "-o", "json")) as { items: { metadata: { name: string } }[] }).items.map((n) => n.metadata.name).sort(),
            ["node1", "node2", "node3"], "node4's Node left with it");
        claimsHold("cluster, back to 3 nodes");

        // The control plane restarted (a laptop's reboot of it): it comes back with its etcd and PKI, and Pulumi sees no change.
        const uids = (await pods()).map((p) => p.metadata.uid).sort();
        docker("restart", "-t", "2", out.controlPlane!.container);
        docker("exec", out.controlPlane!.container, "podnet-control-plane", "ready", "120");
        assert.deepEqual((await pods()).map((p) => p.metadata.uid).sort(), uids, "the same Pod objects");
        pulumi("no-change preview after the control plane restarted", stack.preview(true));

        stack.setConfig({});
        const d = pulumi("podRuntime cluster -> docker", stack.up());
        assert.ok(d.replaced >= out.nodes.length && d.created >= out.pods.length * 3, JSON.stringify(d));
        assert.deepEqual(stateNames().filter((n) => /^control-plane|-(join|pod)$/.test(n)), [], "cluster mode's resources are still in the state");
        refresh();
        assert.equal(out.podRuntime, "docker");
        assert.equal(out.controlPlane, undefined);
        assert.ok(!fs.existsSync(path.join(root, ".lab", STACK, "kubeconfig")), "the kubeconfig file went with the control plane");
        claimsHold("back to docker mode from cluster");
        pulumi("no-change preview after cluster mode", stack.preview(true));
    });

    step("destroy: nothing labelled with the stack is left", () => {
        pulumi("destroy", stack.destroy());
        nothingLeft();
        const manual = manualLabPath(root);
        const destroy = timings.find((t) => t.step === "destroy")!;
        if (manual) {
            const m = timeManualLab(manual);
            log(`destroy took ${destroy.seconds.toFixed(1)}s; manual-lab.sh down took ${m.down.toFixed(1)}s in the same run: ${(destroy.seconds / m.down).toFixed(1)}x`);
        } else {
            log(`destroy took ${destroy.seconds.toFixed(1)}s; ../shared/manual-lab.sh is not beside the repository, so no ratio`);
        }
    });

    step("destroy after a failed up from nothing (a pod whose image is nowhere): nothing is left", () => {
        stack.writePod("zzz", podYaml("zzz").replace("image: nginx:1.27", "image: podnet-e2e/nowhere:test"));
        const failed = stack.up();
        const c = changeSummary(failed.output);
        log(`up with a pod whose image is nowhere: exit ${failed.status}, ${Object.entries(c).map(([k, v]) => `${v} ${k}`).join(", ")} (${failed.seconds.toFixed(1)}s)`);
        assert.notEqual(failed.status, 0, "the up should fail on the missing image");
        assert.match(failed.output, /nowhere/);
        assert.ok((c.created ?? 0) > 0, "the failed up created part of the lab");
        stack.removePod("zzz");
        pulumi("destroy after the failed up", stack.destroy());
        nothingLeft();
    });

    step("destroy from a broken lab (one node stopped, another removed by hand): nothing is left", () => {
        pulumi("up again", stack.up());
        refresh();
        docker("stop", "-t", "1", lab.node("node1").container);
        docker("rm", "-f", "-v", lab.node("node2").container);
        pulumi("destroy from a broken lab", stack.destroy());
        nothingLeft();
    });

    after(() => {
        // Whatever happened, leave nothing behind.
        const left = stack.leftBehind().length > 0;
        if (left) {
            log("a step failed: destroying what is left");
            const r = stack.destroy();
            if (r.status !== 0) {
                log(`pulumi destroy failed; removing by label:\n${r.output.slice(-2000)}`);
                stack.removeByLabel();
            }
        }
        stack.remove(left);
        log("timings:");
        for (const t of timings) { log(`  ${t.step.padEnd(36)} ${t.seconds.toFixed(1).padStart(6)}s  ${t.summary}`); }
    });
});
