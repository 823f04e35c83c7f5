// Both sides of the node contract agree. Each node script runs (tests/fake-node.ts: in a scratch folder as the node's
// root, PODNET_ROOT, with `ip`, `iptables`, `bridge`, `docker`, `ctr`, ... recording stand-ins on PATH) with exactly
// the command lines plan/commands.ts builds for the dev lab, and the test checks what the script asked the tools to
// do against the plan and plan/node-contract.ts: the bridge and the chains, each route, the overlay's device and
// peers, the CNI calls and the pod's records, the labels the node agent looks for, kubelet mode's manifests, and the
// cockpit's `break`. A name or an argument that drifts on either side fails here.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { breakScript } from "../cockpit/breakfix";
import { AnyLabOutputs } from "../plan/outputs";
import { CNI_NETWORK } from "../plan/cni";
import {
    appCommand, bridgeCommand, cniCommand, leftoverContainerCommand, cniConfigCommand, imagesImportCommand, kubeletReadyCommand, NODE_INIT, nodeInit,
    nodeReadyCommand, podIpFromCniResult, routesCommand, sandboxCommand, shq, staticPodCommand, vxlanCommand, vxlanPeersCommand,
} from "../plan/commands";
import { containerdImageName, kubeletPodName, STATIC_POD_DIR } from "../plan/runtimes/kubelet";
import { loadLab, projectRoot, readNodeScripts } from "../plan/load";
import { API_PORT } from "../plan/runtimes/cluster";
import * as C from "../plan/node-contract";
import { LabPlan, NodePlan, PodPlan } from "../plan/plan";
import { Call, changes, FakeNode, line } from "./fake-node";
import { DEV_CONFIG } from "./harness";

const lab = (over: Record<string, string> = {}): LabPlan => {
    const raw: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...DEV_CONFIG, ...over })) { raw[k] = typeof v === "string" ? v : JSON.stringify(v); }
    return loadLab(raw, "dev", projectRoot()).plan;
};
/** A command line that runs ARGV inside the node, as the node agent or a person would (`docker exec NODE ...`). */
const inNode = (n: NodePlan, argv: readonly string[]) => `docker exec ${shq(n.container)} ${argv.map(shq).join(" ")}`;
/** The calls a node made (not the host's `docker exec` that got there). */
const onNode = (calls: readonly Call[], n: NodePlan) => calls.filter((c) => c.where === n.container);
/** The KEY=VALUE lines of a record, as an object; fails unless every line is one. */
function record(text: string): Record<string, string> {
    const lines = text.split("\n").filter((l) => l !== "");
    for (const l of lines) { assert.match(l, /^[a-z_]+=/, `a record's line says what it is (KEY=VALUE): '${l}'`); }
    return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}
/** The records in a folder of the node (files only, in name order). */
const records = (f: FakeNode, dir: string) => (f.exists(dir)
    ? fs.readdirSync(f.at(dir), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort().map((x) => record(f.read(`${dir}/${x}`)))
    : []);
/** Every missing: `ip ... show dev BRIDGE` fails, and so do iptables' listings and checks. */
function nothingThere(f: FakeNode, bridge: string): void {
    f.answer("ip", `case "$*" in "addr show dev ${bridge}") exit 1 ;; esac`);
    f.answer("iptables", `case " $* " in *" -L "*|*" -C "*|*" -D "*) exit 1 ;; esac`);
}
/** A unix socket at the node's dockerd socket: the node scripts take it as "dockerd is up". */
function listen(f: FakeNode, p: string): Promise<net.Server> {
    fs.mkdirSync(path.dirname(f.at(p)), { recursive: true });
    const server = net.createServer((s) => s.destroy());
    return new Promise((resolve) => server.listen(f.at(p), () => resolve(server)));
}

// The node scripts run as root here (as in CI): they must touch nothing of this machine's, only their root.
const HOST_PATHS = [C.NODE_STATE_DIR, "/run/podnet", C.CNI_CONFLIST, C.CNI_LOG, STATIC_POD_DIR, "/var/run/netns/web-1", "/var/run/netns/pod-net-test"];
const absentBefore = HOST_PATHS.filter((p) => !fs.existsSync(p));
after(() => {
    for (const p of absentBefore) { assert.ok(!fs.existsSync(p), `a node script wrote ${p} on this machine, outside its PODNET_ROOT`); }
});

describe("node contract: the names both sides declare", () => {
    it("podnet-lib's paths, chains and labels are plan/node-contract.ts's (sourced with an empty PODNET_ROOT, as on a node)", () => {
        const names = ["STATE", "CONF_DIR", "CONFLIST", "BIN_DIR", "CNI_STATE", "IPAM_DIR", "CACHE_DIR", "CNI_LOG", "MANIFESTS",
            "FORWARD_CHAIN", "MASQ_CHAIN", "POD_LABEL", "CONTAINER_LABEL", "NAMESPACE_LABEL", "SANDBOX_CONTAINER", "API_PORT"];
        const lib = path.join(projectRoot(), "node", "bin", "podnet-lib");
        const f = new FakeNode();
        try {
            const out = f.ok(`. ${shq(lib)} && printf '%s\\n' ${names.map((n) => `"$${n}"`).join(" ")}`, "", { PODNET_ROOT: "" }).split("\n");
            assert.deepEqual(Object.fromEntries(names.map((n, i) => [n, out[i]])), {
                STATE: C.NODE_STATE_DIR, CONF_DIR: C.CNI_CONF_DIR, CONFLIST: C.CNI_CONFLIST, BIN_DIR: C.CNI_BIN_DIR, CNI_STATE: C.CNI_DIR,
                IPAM_DIR: C.IPAM_DATA_DIR, CACHE_DIR: C.CNI_CACHE_DIR, CNI_LOG: C.CNI_LOG, MANIFESTS: STATIC_POD_DIR,
                FORWARD_CHAIN: C.CHAINS.forward, MASQ_CHAIN: C.CHAINS.masquerade,
                POD_LABEL: C.POD_LABELS.pod, CONTAINER_LABEL: C.POD_LABELS.container, NAMESPACE_LABEL: C.POD_LABELS.namespace,
                SANDBOX_CONTAINER: C.SANDBOX_CONTAINER, API_PORT: String(API_PORT),
            });
        } finally { f.remove(); }
        // CNI's state is on the node's CNI volume, so a pod keeps its address across node restarts.
        for (const p of [C.IPAM_DATA_DIR, C.CNI_CACHE_DIR]) { assert.ok(p.startsWith(`${C.NODE_VOLUMES.cni}/`), `${p} is on the volume ${C.NODE_VOLUMES.cni}`); }
    });

    it("the node init installs node/bin/* in NODE_BIN_DIR and node/cni/* in CNI_BIN_DIR, and every script the program names is there", () => {
        const scripts = readNodeScripts(projectRoot());
        const bin = fs.readdirSync(path.join(projectRoot(), "node", "bin")).sort();
        const cni = fs.readdirSync(path.join(projectRoot(), "node", "cni")).sort();
        assert.deepEqual(scripts.map((s) => s.file), [...bin.map((b) => `${C.NODE_BIN_DIR}/${b}`), ...cni.map((c) => `${C.CNI_BIN_DIR}/${c}`)]);
        for (const s of Object.values(C.NODE_SCRIPTS)) { assert.ok(bin.includes(s), `node/bin/${s}`); }
        const init = nodeInit(scripts);
        assert.equal(init.file, NODE_INIT);
        assert.ok(init.file.startsWith(`${C.NODE_BIN_DIR}/`));
        assert.match(init.content, new RegExp(`\\nexec ${C.NODE_BIN_DIR}/${C.NODE_SCRIPTS.entrypoint} "\\$@"\\n$`));
    });
});

describe("podnet-node-ready, as nodeReadyCommand runs it", () => {
    const plan = lab();
    const n = plan.nodes[0];
    let f: FakeNode;
    let dockerd: net.Server;
    before(async () => { f = new FakeNode(); dockerd = await listen(f, "/var/run/docker.sock"); });
    after(() => { dockerd.close(); f.remove(); });

    const INIT = "/usr/local/bin/podnet-node-init";
    const upload = (content: string) => ({ file: INIT, source: ".lab/podnet-node-init", sourceHash: createHash("sha256").update(content).digest("hex") });

    it("finds the script, waits for the inner dockerd's socket, asks `docker info`, and says it is ready", () => {
        f.answer("hostname", "echo node1");
        f.answer("docker", `case "$1" in version) echo 27.5.1 ;; esac`);
        f.write(INIT, "#!/bin/sh\n# the init the node runs\n", 0o755);
        assert.equal(f.ok(nodeReadyCommand(n, upload("#!/bin/sh\n# the init the node runs\n")).create), "node1: dockerd 27.5.1 is ready\n");
        const calls = f.take();
        assert.deepEqual(onNode(calls, n).filter((c) => c.tool === "docker").map(line), ["docker info", "docker version -f {{.Server.Version}}"]);
        assert.deepEqual(calls.filter((c) => c.where === "host" && c.args[0] === "cp"), [], "the node's scripts are the current ones: nothing copied");
    });

    it("a node whose init is not the lab's current one gets the current one copied in and run with --update, then is waited for", () => {
        f.write(INIT, "#!/bin/sh\n# an older lab's init\n", 0o755);
        // As `docker cp` would leave it (the stand-in docker records the copy only): an init that says how it was run and,
        // as the real one does, becomes the node's init.
        const current = "#!/bin/sh\necho \"the new init, run with: $*\"\nmv -f \"$0\" \"$PODNET_ROOT/usr/local/bin/podnet-node-init\"\n";
        f.write(`${INIT}.new`, current, 0o755);
        const r = f.run(nodeReadyCommand(n, upload(current)).create);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, "node1: dockerd 27.5.1 is ready\n");
        assert.equal(r.stderr, `${n.container}: its node scripts are not the lab's current ones: installing them in place\nthe new init, run with: --update\n`);
        assert.deepEqual(f.take().filter((c) => c.where === "host" && c.args[0] === "cp").map(line),
            [`docker cp .lab/podnet-node-init ${n.container}:${INIT}.new`]);
        assert.equal(f.read(INIT), current, "the current init is the node's now");
    });

    it("an update that leaves the node's init still not the current one fails, saying so, and does not wait", () => {
        f.write(INIT, "#!/bin/sh\n# an older lab's init\n", 0o755);
        f.write(`${INIT}.new`, "#!/bin/sh\n# copied, but it does not install itself\n", 0o755);
        const r = f.run(nodeReadyCommand(n, upload("#!/bin/sh\n# the current init\n")).create);
        assert.equal(r.status, 1);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /its node scripts are still not the lab's current ones after installing them in place \(\/usr\/local\/bin\/podnet-node-init\)\n$/);
        f.take();
    });

    it("the current init, run with --update, installs the scripts and becomes the node's init; without it, it would start the node", () => {
        const init = nodeInit([{ file: "/usr/local/bin/podnet-x", content: "#!/bin/sh\necho x\n" }]).content;
        assert.match(init, /\nif \[ "\$\{1:-\}" = --update \]; then\n {2}\[ "\$0" = \/usr\/local\/bin\/podnet-node-init \] \|\| mv -f "\$0" \/usr\/local\/bin\/podnet-node-init\n/);
        assert.ok(init.indexOf("install_script '/usr/local/bin/podnet-x'") < init.indexOf("--update"), "the scripts first");
        assert.match(init, /\n {2}exit 0\nfi\nexec \/usr\/local\/bin\/podnet-node-entrypoint "\$@"\n$/);
    });
});

describe("podnet-bridge, as bridgeCommand runs it: the bridge, forwarding, and the masquerade of what leaves the cluster", () => {
    const plan = lab();
    const n = plan.nodes[0];
    const cluster = plan.clusterCidr;
    const fwd = C.CHAINS.forward;
    const masq = C.CHAINS.masquerade;
    const masquerade = `iptables -t ${C.MASQUERADE_RULE.table} -A ${C.MASQUERADE_RULE.chain} ${C.MASQUERADE_RULE.spec.join(" ")}`;
    const mac = n.bridgeMac!;
    const everything = [
        `ip link add ${n.bridge} address ${mac} type bridge`, `ip addr replace ${n.bridgeCidr} dev ${n.bridge}`, `ip link set ${n.bridge} up`,
        `iptables -t filter -N ${fwd}`,
        `iptables -t filter -A ${fwd} -s ${cluster} -d ${cluster} -j ACCEPT`,
        `iptables -t filter -A ${fwd} -s ${n.podCidr} -j ACCEPT`,
        `iptables -t filter -A ${fwd} -d ${n.podCidr} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
        `iptables -t filter -I FORWARD 1 -j ${fwd}`,
        `iptables -t nat -N ${masq}`,
        `iptables -t nat -I ${masq} 1 -d ${cluster} -j RETURN`,
        masquerade,
        `iptables -t nat -A POSTROUTING -s ${n.podCidr} -j ${masq}`,
    ];
    let f: FakeNode;
    before(() => { f = new FakeNode(); f.write("/proc/sys/net/ipv4/ip_forward", "0\n"); f.write("/proc/1/fd/1", ""); });
    after(() => f.remove());

    it("add: the bridge with its address and its own MAC, forwarding on, the chains from plan/node-contract.ts with the plan's ranges", () => {
        assert.equal(mac, "0a:58:0a:f4:01:01", "node1's bridge MAC: 0a:58 and its address 10.244.1.1");
        nothingThere(f, n.bridge);
        const out = f.ok(bridgeCommand(n, cluster).create);
        assert.equal(out, `podnet-bridge: ${n.bridge} ${n.bridgeCidr} (MAC ${mac}) for pods ${n.podCidr}, no masquerade inside ${cluster}\n`);
        assert.deepEqual(changes(f.take()), everything);
        assert.equal(f.read("/proc/sys/net/ipv4/ip_forward"), "1\n");
        assert.match(f.read("/proc/1/fd/1"), new RegExp(`^podnet: bridge ${n.bridge} created with MAC ${mac}$`, "m"), "a repair run by the lab goes to the node's log too");
        assert.deepEqual(records(f, C.NODE_STATE_DIR).filter((r) => "bridge" in r),
            [{ bridge: n.bridge, address: n.bridgeCidr, mac, pod_cidr: n.podCidr, cluster_cidr: cluster }]);
    });

    it("ensure puts the bridge's MAC back when it changed (and only the MAC, when all else is there)", () => {
        // The bridge as `ip addr show` prints it, up and addressed, but with a port's MAC (what a bridge without one of its own takes).
        f.answer("ip", `case "$*" in "addr show dev ${n.bridge}") printf '%s\\n' '5: ${n.bridge}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP' ` +
            `'    link/ether 02:11:22:33:44:55 brd ff:ff:ff:ff:ff:ff' '    inet ${n.bridgeCidr} brd 10.244.1.255 scope global ${n.bridge}' ;; esac`);
        f.answer("iptables", "exit 0");
        const r = f.run(inNode(n, ["podnet-bridge", "ensure"]), "", { PODNET_RUN_BY: "agent" });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(changes(f.take()), [`ip link set dev ${n.bridge} address ${mac}`]);
        assert.match(r.stderr, new RegExp(`podnet: ${n.bridge} MAC ${mac}`), "the repair is said");
    });

    it("ensure (the node agent's) reads the record and re-applies the same, or nothing while the agent is paused", () => {
        nothingThere(f, n.bridge);
        f.ok(inNode(n, ["podnet-bridge", "ensure"]), "", { PODNET_RUN_BY: "agent" });
        assert.deepEqual(changes(f.take()), everything);
        f.ok(inNode(n, C.agentArgv.pause("a test")));
        f.ok(inNode(n, ["podnet-bridge", "ensure"]), "", { PODNET_RUN_BY: "agent" });
        assert.deepEqual(changes(f.take()), [], "paused: the agent's ensure does nothing");
        f.ok(inNode(n, C.agentArgv.resume()));
        f.take();
    });

    it("del: the rules, the chains and the bridge go, and so does the record", () => {
        nothingThere(f, n.bridge);
        f.ok(bridgeCommand(n, cluster).delete!);
        assert.deepEqual(changes(f.take()), [
            `iptables -t nat -D POSTROUTING -s ${n.podCidr} -j ${masq}`, `iptables -t nat -F ${masq}`, `iptables -t nat -X ${masq}`,
            `iptables -D FORWARD -j ${fwd}`, `iptables -F ${fwd}`, `iptables -X ${fwd}`, `ip link del ${n.bridge}`,
        ]);
        assert.deepEqual(records(f, C.NODE_STATE_DIR).filter((r) => "bridge" in r), []);
    });

    it("a wrong number of arguments is refused, naming them", () => {
        const r = f.run(inNode(n, C.bridgeArgv("add", { bridge: n.bridge, bridgeCidr: n.bridgeCidr, bridgeMac: mac, podCidr: n.podCidr, clusterCidr: cluster }).slice(0, -1)));
        assert.equal(r.status, 2);
        assert.match(r.stderr, /usage: podnet-bridge add BRIDGE BRIDGE_CIDR BRIDGE_MAC POD_CIDR CLUSTER_CIDR/);
    });
});

describe("leftovers of an interrupted up, on the host (leftoverContainerCommand, run by the beforeCreate hook)", () => {
    let f: FakeNode;
    before(() => { f = new FakeNode(); });
    after(() => f.remove());
    const removals = () => f.take().filter((c) => c.where === "host" && c.tool === "docker" && c.args[0] === "rm").map(line);

    it("a container of that name with this lab's stack and instance labels is removed, with its volumes, and the removal is said", () => {
        f.answer("docker-host-inspect", "echo dev 0123456789abcdef");
        const out = f.ok(leftoverContainerCommand("podnet-dev-node1", "dev", "0123456789abcdef"));
        assert.deepEqual(removals(), ["docker rm -f -v podnet-dev-node1"]);
        assert.match(out, /^removed the container podnet-dev-node1, which an interrupted pulumi up left \(it carries this lab's labels podnet-lab\.stack=dev and podnet-lab\.instance=0123456789abcdef, and the stack's state does not hold it\)\n$/);
    });

    it("one of another checkout's lab of the same stack (another instance), of another stack, without the labels, or none at all: nothing is removed and nothing said", () => {
        for (const answer of ["echo dev fedcba9876543210", "echo e2e 0123456789abcdef", "echo ' '", "echo 'Error: No such object: podnet-dev-node1' >&2; exit 1"]) {
            f.answer("docker-host-inspect", answer);
            assert.equal(f.ok(leftoverContainerCommand("podnet-dev-node1", "dev", "0123456789abcdef")), "", answer);
            assert.deepEqual(removals(), [], answer);
        }
    });
});

describe("podnet-route, as routesCommand runs it: the node's routes to its peers, one table", () => {
    const plan = lab();
    const n = plan.nodes[0];
    const routes = () => records(f, `${C.NODE_STATE_DIR}/routes`);
    let f: FakeNode;
    before(() => { f = new FakeNode(); });
    after(() => f.remove());

    it("set: `ip route replace POD_CIDR via LAN_IP` for each route of the table, each recorded as the table's", () => {
        assert.equal(n.routes.length, 2);
        const c = routesCommand(n);
        assert.equal(f.ok(c.create, c.stdin), `${n.routes.map((r) => `podnet-route: ${r.to} via ${r.via}\n`).join("")}podnet-route: the table holds 2 routes (2 added, 0 kept)\n`);
        assert.deepEqual(changes(f.take()), n.routes.map((r) => `ip route replace ${r.to} via ${r.via}`));
        assert.deepEqual(routes(), n.routes.map((r) => ({ model: "routed", to: r.to, via: r.via, by: "table" })));
    });

    it("set again with a route more and one less (a node joins, another leaves): only those two change; the route that stays is not touched", () => {
        const [stays, leaves] = n.routes;
        f.answer("ip", `case "$*" in "route show") echo "${stays.to} via ${stays.via} dev eth0 "; echo "${leaves.to} via ${leaves.via} dev eth0 " ;; esac`);
        const table = `${stays.to} via ${stays.via}\n10.244.4.0/24 via 192.168.1.14\n`;
        assert.equal(f.ok(routesCommand(n).create, table),
            `podnet-route: removed ${leaves.to} via ${leaves.via}\npodnet-route: 10.244.4.0/24 via 192.168.1.14\npodnet-route: the table holds 2 routes (1 added, 1 kept)\n`);
        assert.deepEqual(changes(f.take()), [`ip route del ${leaves.to} via ${leaves.via}`, "ip route replace 10.244.4.0/24 via 192.168.1.14"]);
        assert.deepEqual(routes().map((r) => r.to), [stays.to, "10.244.4.0/24"]);
        f.clearAnswers();
        f.ok(routesCommand(n).create, routesCommand(n).stdin);   // back to the plan's table
        f.take();
    });

    it("refuses a line that is not a route, naming it, and changes nothing", () => {
        const r = f.run(routesCommand(n).create, "10.244.2.0/24 via 192.168.1.12\n10.244.3.0/24 dev eth0\n");
        assert.equal(r.status, 2);
        assert.match(r.stderr, /'10\.244\.3\.0\/24 dev eth0 ' is not a route; each line is POD_CIDR via LAN_IP/);
        assert.deepEqual(changes(f.take()), []);
    });

    it("ensure (the agent's) puts back a route that is gone and leaves the one that is there", () => {
        const [there, gone] = n.routes;
        f.answer("ip", `case "$*" in "route show") echo "${there.to} via ${there.via} dev eth0 " ;; esac`);
        f.ok(inNode(n, ["podnet-route", "ensure"]), "", { PODNET_RUN_BY: "agent" });
        assert.deepEqual(changes(f.take()), [`ip route replace ${gone.to} via ${gone.via}`]);
        f.clearAnswers();
    });

    it("a single route's del (as a lab of one resource per route deletes it, after its one `up` to tables) leaves the table's route and record alone", () => {
        const r = n.routes[0];
        assert.match(f.ok(inNode(n, C.routeArgv("del", r))), /the node's table holds 10\.244\.2\.0\/24 now .*: left as it is/);
        assert.deepEqual(changes(f.take()), []);
        assert.equal(routes().length, 2);
    });

    it("clear: every route of the table goes, with its record; a route added by hand stays", () => {
        f.ok(inNode(n, C.routeArgv("add", { to: "10.244.9.0/24", via: "192.168.1.19" })));
        f.take();
        f.ok(routesCommand(n).delete!);
        assert.deepEqual(changes(f.take()), n.routes.map((r) => `ip route del ${r.to} via ${r.via}`));
        assert.deepEqual(routes(), [{ model: "routed", to: "10.244.9.0/24", via: "192.168.1.19" }]);
    });

    it("add and del by hand: one route, recorded, then removed with its record", () => {
        f.ok(inNode(n, C.routeArgv("del", { to: "10.244.9.0/24", via: "192.168.1.19" })));
        assert.deepEqual(changes(f.take()), ["ip route del 10.244.9.0/24 via 192.168.1.19"]);
        assert.deepEqual(routes(), []);
    });
});

describe("podnet-vxlan, as vxlanCommand and vxlanPeersCommand run it (podNetwork vxlan)", () => {
    const plan = lab({ podNetwork: "vxlan" });
    const n = plan.nodes[0];
    const v = n.vxlan!;
    const device = [
        `ip link del ${v.device}`,
        `ip link add ${v.device} address ${v.mac} mtu ${v.mtu} type vxlan id ${v.vni} dstport ${v.port} local ${n.lanIp} dev eth0 nolearning`,
        `ip link set ${v.device} address ${v.mac}`, `ip link set ${v.device} mtu ${v.mtu}`,
        `ip addr replace ${v.vtepIp}/32 dev ${v.device}`, `ip link set ${v.device} up`,
    ];
    const peer = (p: (typeof n.vxlanPeers)[number]) => [
        `bridge fdb replace ${p.mac} dev ${v.device} dst ${p.lanIp} self permanent`,
        `ip neigh replace ${p.vtepIp} lladdr ${p.mac} dev ${v.device} nud permanent`,
        `ip route replace ${p.to} via ${p.vtepIp} dev ${v.device} onlink`,
    ];
    let f: FakeNode;
    before(() => {
        f = new FakeNode();
        // No device yet; the node's LAN address is on eth0.
        f.answer("ip", `case "$*" in "-d link show ${v.device}") exit 1 ;; "-o -4 addr show") echo "2: eth0    inet ${n.lanIp}/24 brd 192.168.1.255 scope global eth0" ;; esac`);
    });
    after(() => f.remove());

    it("add: the device with the plan's VNI, port, LAN address, VTEP, MAC and MTU; then per peer its FDB entry, neighbour and route", () => {
        assert.equal(f.ok(vxlanCommand(n, v).create), `podnet-vxlan: ${v.device} VNI ${v.vni} UDP ${v.port} on ${n.lanIp}, VTEP ${v.vtepIp} (${v.mac}), mtu ${v.mtu}\n`);
        assert.deepEqual(changes(f.take()), device);
        const peers = vxlanPeersCommand(n, v);
        assert.equal(f.ok(peers.create, peers.stdin), `${n.vxlanPeers.map((p) => `podnet-vxlan: ${p.to} via ${p.vtepIp} dev ${v.device}; ${p.vtepIp} is ${p.mac}; ${p.mac} is behind ${p.lanIp} (UDP)\n`).join("")}` +
            `podnet-vxlan: ${v.device} has 2 peers (2 added, 0 kept)\n`);
        assert.deepEqual(changes(f.take()), n.vxlanPeers.flatMap(peer));
        assert.deepEqual(records(f, `${C.NODE_STATE_DIR}/routes`),
            n.vxlanPeers.map((p) => ({ model: "vxlan", to: p.to, device: v.device, vtep_ip: p.vtepIp, mac: p.mac, lan_ip: p.lanIp, by: "table" })));
        assert.deepEqual(records(f, C.NODE_STATE_DIR).filter((r) => "vni" in r),
            [{ device: v.device, vni: String(v.vni), port: String(v.port), local_ip: n.lanIp, vtep_ip: v.vtepIp, mac: v.mac, mtu: String(v.mtu) }]);
    });

    it("ensure (the agent's) re-applies the device and every peer from the records", () => {
        f.ok(inNode(n, ["podnet-vxlan", "ensure"]), "", { PODNET_RUN_BY: "agent" });
        assert.deepEqual(changes(f.take()), [...device, ...n.vxlanPeers.flatMap(peer)]);
    });

    it("set again with one peer fewer: that peer's route, neighbour and FDB entry go, the other's stay", () => {
        const [stays, leaves] = n.vxlanPeers;
        // The staying peer's entries are there (`peer` re-applies only what is missing).
        f.answer("bridge", `case "$*" in "fdb show dev ${v.device}") echo "${stays.mac} dst ${stays.lanIp} self permanent" ;; esac`);
        f.answer("ip", `case "$*" in "neigh show dev ${v.device}") echo "${stays.vtepIp} lladdr ${stays.mac} PERMANENT" ;; ` +
            `"route show ${stays.to}") echo "${stays.to} via ${stays.vtepIp} dev ${v.device} onlink" ;; esac`);
        const out = f.ok(vxlanPeersCommand(n, v).create, `${C.vxlanPeerLine(stays)}\n`);
        f.clearAnswers();
        assert.match(out, new RegExp(`^podnet-vxlan: removed the peer ${leaves.to.replace(/\./g, "\\.")} via .*\npodnet-vxlan: ${v.device} has 1 peers \\(0 added, 1 kept\\)\n$`));
        assert.deepEqual(changes(f.take()), [`ip route del ${leaves.to} via ${leaves.vtepIp} dev ${v.device}`, `ip neigh del ${leaves.vtepIp} dev ${v.device}`,
            `bridge fdb del ${leaves.mac} dev ${v.device} dst ${leaves.lanIp} self`]);
        f.ok(vxlanPeersCommand(n, v).create, vxlanPeersCommand(n, v).stdin);
        f.take();
    });

    it("the switch to the routed model in one up: its table takes each subnet over, so clearing the peers' table then leaves the routes alone", () => {
        const routes = routesCommand(lab().nodes[0]);
        f.ok(routes.create, routes.stdin);
        assert.deepEqual(changes(f.take()), n.vxlanPeers.map((p) => `ip route replace ${p.to} via ${p.lanIp}`));
        f.ok(vxlanPeersCommand(n, v).delete!);
        assert.deepEqual(changes(f.take()), [], "the peers' table holds nothing any more: the routed model's table owns every subnet");
        assert.deepEqual(records(f, `${C.NODE_STATE_DIR}/routes`).map((r) => `${r.model} ${r.to} ${r.by}`), n.vxlanPeers.map((p) => `routed ${p.to} table`));
        f.ok(routes.delete!);
        f.take();
    });

    it("a route taken over by the routed model (by hand) stays when the overlay's peer goes (by hand), and only the overlay's entries are removed", () => {
        const p = n.vxlanPeers[0];
        const args = { device: v.device, to: p.to, vtepIp: p.vtepIp, mac: p.mac, lanIp: p.lanIp };
        f.ok(inNode(n, C.vxlanPeerArgv("add", args)));
        f.ok(inNode(n, C.routeArgv("add", { to: p.to, via: p.lanIp })));
        f.take();
        f.ok(inNode(n, C.vxlanPeerArgv("del", args)));
        assert.deepEqual(changes(f.take()), [
            `ip route del ${p.to} via ${p.vtepIp} dev ${v.device}`, `ip neigh del ${p.vtepIp} dev ${v.device}`, `bridge fdb del ${p.mac} dev ${v.device} dst ${p.lanIp} self`]);
        assert.deepEqual(records(f, `${C.NODE_STATE_DIR}/routes`)[0], { model: "routed", to: p.to, via: p.lanIp });
        f.ok(inNode(n, C.routeArgv("del", { to: p.to, via: p.lanIp })));
        f.take();
    });

    it("del: the device goes (with its entries), and so does its record", () => {
        f.ok(vxlanCommand(n, v).delete!);
        assert.deepEqual(changes(f.take()), [`ip link del ${v.device}`]);
        assert.deepEqual(records(f, C.NODE_STATE_DIR).filter((r) => "vni" in r), []);
    });
});

/** The sandbox's and an app container's ids inside the node, and PIDs. */
const SANDBOX = "a".repeat(64);
const APP = "c".repeat(64);
const GONE = "b".repeat(64);
const SANDBOX_PID = 4242;
const APP_PID = 5151;

describe("a pod in docker mode: the lab's `docker run`s, podnet-cni as cniConfigCommand and cniCommand run it, and the node agent", () => {
    const plan = lab();
    const n = plan.nodes[0];
    const pod: PodPlan = plan.pods.find((p) => p.node === n.name)!;
    const conflist = n.cni!.conflist;
    const address = `${n.podCidr.split(".").slice(0, 3).join(".")}.2`;
    let f: FakeNode;
    let dockerd: net.Server;
    const runs = new Map<string, Record<string, string>>();
    before(async () => {
        f = new FakeNode();
        dockerd = await listen(f, "/var/run/docker.sock");
        // Recording plugins in place of the node's: podnet hands out ADDRESS (or the IP its CNI_ARGS ask for); portmap passes the result on.
        f.plugin(C.CNI_BIN_DIR, "podnet", `[ "$CNI_COMMAND" = ADD ] || exit 0
ip=$(echo "$CNI_ARGS" | tr ';' '\\n' | sed -n 's/^IP=//p')
printf '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"%s"}],"ips":[{"address":"%s/24","gateway":"${n.bridgeIp}","interface":0}]}' "$CNI_NETNS" "\${ip:-${address}}"`);
        f.plugin(C.CNI_BIN_DIR, "portmap", `[ "$CNI_COMMAND" = ADD ] || exit 0; printf '%s' "$stdin" | jq -c .prevResult`);
        f.answer("docker", `case "$1 \${2:-} \${3:-}" in
  "inspect -f {{.Id}}") echo ${SANDBOX} ;;
  "inspect -f {{.State.Pid}}") echo ${SANDBOX_PID} ;;
  "ps -aq --no-trunc") echo ${SANDBOX}; echo ${APP} ;;
esac`);
    });
    after(() => { dockerd.close(); f.remove(); });
    const plugins = (calls: readonly Call[]) => calls.filter((c) => c.where === "plugin").map((c) => ({
        type: c.tool, ...Object.fromEntries(c.args.map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)])),
    }) as Record<string, string>);

    it("the sandbox and app containers carry the pod's labels from plan/node-contract.ts (the sandbox's container label: SANDBOX_CONTAINER)", () => {
        f.ok(sandboxCommand(n, pod, plan.pauseImage.ref, plan.labels).create);
        for (const c of pod.containers) { f.ok(appCommand(n, pod, c, plan.labels).create); }
        for (const c of onNode(f.take(), n).filter((x) => x.tool === "docker" && x.args[0] === "run")) {
            const name = c.args[c.args.indexOf("--name") + 1];
            const labels = c.args.flatMap((a, i) => (c.args[i - 1] === "--label" ? [a] : []));
            runs.set(name, Object.fromEntries(labels.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])));
        }
        assert.deepEqual([...runs.keys()], [pod.sandbox, ...pod.containers.map((c) => c.container)]);
        assert.deepEqual(runs.get(pod.sandbox), { ...plan.labels, ...C.podLabels(pod.name, C.SANDBOX_CONTAINER) });
        for (const c of pod.containers) { assert.deepEqual(runs.get(c.container), { ...plan.labels, ...C.podLabels(pod.name, c.name) }); }
    });

    it("CONFIG writes the node's conflist to CNI_CONFLIST; UNCONFIG removes it only while it holds the same", () => {
        f.ok(cniConfigCommand(n, n.cni!).create, n.cni!.text);
        assert.deepEqual(JSON.parse(f.read(C.CNI_CONFLIST)), conflist);
        f.ok(cniConfigCommand(n, n.cni!).delete!, n.cni!.text.replace(`"mtu": ${n.podMtu}`, `"mtu": ${n.podMtu - 1}`));
        assert.ok(f.exists(C.CNI_CONFLIST), "another configuration's UNCONFIG leaves this one");
        f.ok(cniConfigCommand(n, n.cni!).delete!, n.cni!.text);
        assert.ok(!f.exists(C.CNI_CONFLIST));
        f.ok(cniConfigCommand(n, n.cni!).create, n.cni!.text);
        f.take();
    });

    it("ADD POD SANDBOX: releases a lease of a sandbox that is gone, runs each plugin's ADD with the pod's CNI_* and its conf, records the pod, caches the result", () => {
        f.write(`${C.IPAM_DATA_DIR}/${CNI_NETWORK}/10.244.1.9`, `${GONE}\r\neth0`);
        const out = f.ok(cniCommand(n, pod, SANDBOX).create);
        assert.equal(podIpFromCniResult(out), address);
        const netns = f.at(`/var/run/netns/${pod.name}`);
        const calls = plugins(f.take());
        assert.deepEqual(calls.map((c) => `${c.type} ${c.CNI_COMMAND} ${c.CNI_CONTAINERID}`),
            [`portmap DEL ${GONE}`, `podnet DEL ${GONE}`, `podnet ADD ${SANDBOX}`, `portmap ADD ${SANDBOX}`], "the leaked lease's DEL (reverse order), then the ADD");
        const add = calls[2];
        assert.deepEqual({ netns: add.CNI_NETNS, ifname: add.CNI_IFNAME, args: add.CNI_ARGS, path: add.CNI_PATH }, {
            netns, ifname: "eth0", path: f.at(C.CNI_BIN_DIR),
            args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${SANDBOX}`,
        });
        assert.deepEqual(JSON.parse(add.stdin), { ...conflist.plugins[0], name: CNI_NETWORK, cniVersion: conflist.cniVersion });
        assert.equal(fs.readlinkSync(netns), f.at(`/proc/${SANDBOX_PID}/ns/net`), "the sandbox's namespace, named after the pod");
        assert.deepEqual(record(f.read(`${C.NODE_STATE_DIR}/pods/${pod.name}`)), { sandbox: SANDBOX });
        const cache = JSON.parse(f.read(`${C.CNI_CACHE_DIR}/${CNI_NETWORK}-${SANDBOX}-eth0`)) as { kind: string; containerId: string; result: unknown };
        assert.deepEqual([cache.kind, cache.containerId, cache.result], ["cniCacheV1", SANDBOX, JSON.parse(out)]);
    });

    it("LAST POD (the cockpit's `cni`) reads back that ADD from CNI_LOG, plugin by plugin", () => {
        const last = f.ok(inNode(n, C.cniArgv.last(pod.name))).trim().split("\n").map((l) => JSON.parse(l) as { plugin: string; pod: string });
        assert.deepEqual(last.map((c) => `${c.plugin} ${c.pod}`), [`podnet ${pod.name}`, `portmap ${pod.name}`]);
        assert.ok(f.exists(C.CNI_LOG));
        f.take();
    });

    it("the node agent finds the pod's containers by the labels the lab put on them, and repairs them", () => {
        // The processes' namespaces, as the kernel shows them: the app's is not the sandbox's.
        for (const [pid, ns] of [[SANDBOX_PID, "net:[4026532001]"], [APP_PID, "net:[4026531840]"]] as const) {
            fs.mkdirSync(f.at(`/proc/${pid}/ns`), { recursive: true });
            fs.symlinkSync(ns, f.at(`/proc/${pid}/ns/net`));
        }
        // First look: `docker ps` by the pod label finds the containers; the template says what it reads of each.
        f.answer("docker", `case "$1 \${2:-} \${3:-}" in "ps -aq --filter") echo ${SANDBOX}; echo ${APP} ;; esac`);
        f.ok(inNode(n, C.agentArgv.once()));
        const looked = onNode(f.take(), n).filter((c) => c.tool === "docker");
        assert.deepEqual(looked[0].args, ["ps", "-aq", "--filter", `label=${C.POD_LABELS.pod}`]);
        const inspect = looked.find((c) => c.args[0] === "inspect")!;
        assert.deepEqual(inspect.args.slice(3), [SANDBOX, APP]);
        const template = inspect.args[2];
        // docker's answer, rendered from the labels of the lab's own `docker run`s: the sandbox stopped, the app in an old namespace.
        const app = pod.containers[0];
        const render = (id: string, name: string, running: boolean, pid: number) => template.replace(/\{\{([^}]*)\}\}/g, (_, e: string) => {
            const label = /^index \.Config\.Labels "([^"]+)"$/.exec(e.trim());
            if (label) { return runs.get(name)![label[1]] ?? "<no value>"; }
            const v = ({ ".Id": id, ".Name": `/${name}`, ".State.Running": String(running), ".State.Pid": String(pid) } as Record<string, string>)[e.trim()];
            assert.ok(v !== undefined, `the agent's template asks for {{${e}}}, which this test does not know`);
            return v;
        });
        f.write("/answers/inspect", `${render(SANDBOX, pod.sandbox, false, 0)}\n${render(APP, app.container, true, APP_PID)}\n`);
        f.answer("docker", `case "$1 \${2:-} \${3:-}" in
  "ps -aq --filter") echo ${SANDBOX}; echo ${APP} ;;
  "inspect -f {{.State.Pid}}") echo ${SANDBOX_PID} ;;
  inspect*) cat ${shq(f.at("/answers/inspect"))} ;;
esac`);
        f.ok(inNode(n, C.agentArgv.once()));
        const repairs = onNode(f.take(), n).filter((c) => c.tool === "docker" && ["start", "restart"].includes(c.args[0])).map(line);
        assert.deepEqual(repairs, [`docker start ${SANDBOX}`, `docker restart -t 1 ${app.container}`],
            "the sandbox (container label SANDBOX_CONTAINER) started again; the app restarted into the sandbox's namespace");
    });

    it("DEL POD SANDBOX: each plugin's DEL in reverse order with the cached result; the records go; the next ADD asks for the same IP", () => {
        f.answer("docker", `case "$1 \${2:-} \${3:-}" in
  "inspect -f {{.Id}}") echo ${SANDBOX} ;;
  "inspect -f {{.State.Pid}}") echo ${SANDBOX_PID} ;;
  "ps -aq --no-trunc") echo ${SANDBOX} ;;
esac`);
        const cached = f.read(`${C.CNI_CACHE_DIR}/${CNI_NETWORK}-${SANDBOX}-eth0`);
        f.ok(cniCommand(n, pod, SANDBOX).delete!);
        const calls = plugins(f.take());
        assert.deepEqual(calls.map((c) => `${c.type} ${c.CNI_COMMAND} ${c.CNI_CONTAINERID}`), [`portmap DEL ${SANDBOX}`, `podnet DEL ${SANDBOX}`]);
        assert.deepEqual(JSON.parse(calls[1].stdin).prevResult, (JSON.parse(cached) as { result: unknown }).result);
        assert.ok(!f.exists(`${C.NODE_STATE_DIR}/pods/${pod.name}`), "the pod record goes");
        assert.ok(!f.exists(`${C.CNI_CACHE_DIR}/${CNI_NETWORK}-${SANDBOX}-eth0`), "the cached result goes");
        assert.ok(!f.exists(`/var/run/netns/${pod.name}`), "the namespace's name goes");
        // The sandbox still runs (the lab re-wires it after a new network configuration): its ADD asks for its address again.
        f.ok(cniCommand(n, pod, SANDBOX).create);
        assert.match(plugins(f.take()).find((c) => c.CNI_COMMAND === "ADD")!.CNI_ARGS, new RegExp(`;IP=${address.replace(/\./g, "\\.")}$`));
        assert.deepEqual(records(f, `${C.NODE_STATE_DIR}/rewire`), [], "the re-wire record goes once the ADD succeeded");
    });

    it("DOCKER0 POD SANDBOX (the \"before\" state) names the namespace and prints Docker's address; UNNAME forgets the name", () => {
        f.answer("ip", `case "$*" in "-n ${pod.name} -4 -o addr show dev eth0") echo "52: eth0    inet 172.17.0.2/16 brd 172.17.255.255 scope global eth0" ;; esac`);
        f.answer("docker", `case "$1 \${2:-} \${3:-}" in "inspect -f {{.State.Pid}}") echo ${SANDBOX_PID} ;; "inspect -f {{.NetworkSettings.Gateway}}") echo 172.17.0.1 ;; esac`);
        const c = cniCommand(n, pod, SANDBOX, "docker0");
        assert.equal(podIpFromCniResult(f.ok(c.create)), "172.17.0.2");
        assert.ok(f.exists(`/var/run/netns/${pod.name}`));
        f.ok(c.delete!);
        assert.ok(!f.exists(`/var/run/netns/${pod.name}`));
        f.take();
    });
});

describe("the cockpit's `break`, run on a node: it takes away exactly what the node scripts made, and the agent stays paused", () => {
    const plan = lab();
    const n = plan.nodes[0];
    const peer = plan.nodes[2];
    const out = {
        lan: plan.lan, outside: { name: "outside", container: "outside", ip: "192.168.1.254" }, clusterCidr: plan.clusterCidr, pods: [], pendingPods: [], diagram: "", renderedManifests: "",
        nodes: plan.nodes.map((x) => ({ name: x.name, container: x.container, lanIp: x.lanIp, podCidr: x.podCidr, bridge: x.bridge, bridgeIp: x.bridgeIp, routes: x.routes.map((r) => ({ to: r.to, via: r.via })) })),
    } as AnyLabOutputs;
    let f: FakeNode;
    let dockerd: net.Server;
    let made: string[];
    before(async () => {
        f = new FakeNode();
        f.write("/proc/sys/net/ipv4/ip_forward", "1\n");
        dockerd = await listen(f, "/var/run/docker.sock");
        nothingThere(f, n.bridge);
        f.ok(bridgeCommand(n, plan.clusterCidr).create);
        f.ok(routesCommand(n).create, routesCommand(n).stdin);
        made = changes(f.take());
    });
    after(() => { dockerd.close(); f.remove(); });
    // As breakPiece runs it (cockpit/live.ts onNode: docker exec NODE sh -c SCRIPT).
    const broken = (what: string): string[] => {
        const b = breakScript(out, what, n.name, peer.name);
        assert.equal(b.container, n.container);
        f.answer("iptables", `case " $* " in *" -L "*|*" -C "*) exit 1 ;; esac`);
        f.ok(`docker exec ${shq(b.container)} sh -c ${shq(b.script)}`);
        return changes(f.take());
    };
    const cases: [string, (s: string) => string][] = [
        ["masquerade", (s) => s.replace(" -D ", " -A ")],
        ["route", (s) => s.replace(" del ", " replace ")],
        ["bridge", (s) => s.replace(/ down$/, " up")],
    ];
    for (const [what, asMade] of cases) {
        it(`break ${what}: one call, undoing one the node scripts made; the agent's pass changes nothing until it is resumed`, () => {
            const gone = broken(what);
            assert.equal(gone.length, 1, gone.join("\n"));
            assert.ok(made.includes(asMade(gone[0])), `'${gone[0]}' takes away what podnet-bridge or podnet-route made:\n${made.join("\n")}`);
            assert.match(f.ok(inNode(n, C.agentArgv.status())), new RegExp(`^paused since \\S+: cockpit: `));
            f.ok(inNode(n, C.agentArgv.once()));
            assert.deepEqual(changes(f.take()), []);
            f.ok(inNode(n, C.agentArgv.resume()));
            assert.equal(f.ok(inNode(n, C.agentArgv.status())), "running\n");
            f.ok(inNode(n, C.agentArgv.once()));
            assert.ok(changes(f.take()).length > 0, "resumed, the agent's pass repairs");
        });
    }
});

describe("podnet-kubelet, as kubeletReadyCommand, imagesImportCommand and staticPodCommand run it (podRuntime kubelet)", () => {
    const plan = lab({ podRuntime: "kubelet" });
    const n = plan.nodes[0];
    const pod = plan.pods.find((p) => p.node === n.name)!;
    const sp = pod.runtime.kind === "kubelet" ? pod.runtime.staticPod : assert.fail(`${pod.name} is not a kubelet-mode pod`);
    const cid = "d".repeat(64);
    const result = { cniVersion: "1.0.0", ips: [{ address: "10.244.1.7/24", gateway: n.bridgeIp, interface: 2 }] };
    let f: FakeNode;
    before(() => {
        f = new FakeNode();
        f.env[C.NODE_ENV.podRuntime] = "kubelet";
        f.answer("hostname", "echo node1");
    });
    after(() => f.remove());
    const sock = () => f.at("/run/containerd/containerd.sock");

    it("ready: asks kubelet's healthz on loopback and prints the versions and the static pod folder", () => {
        f.answer("busybox", `case "$*" in "nc 127.0.0.1 10248") cat >/dev/null; echo ok ;; esac`);
        f.answer("kubelet", "echo Kubernetes v1.34.0");
        f.answer("ctr", `case "$*" in *" version") echo "Server:"; echo "  Version:  1.7.24" ;; esac`);
        assert.equal(f.ok(kubeletReadyCommand(n).create), `node1: kubelet v1.34.0 is running (static pods from ${f.at(STATIC_POD_DIR)}), containerd 1.7.24\n`);
        f.take();
    });

    it("images: imports into containerd's k8s.io namespace and prints each image's digest, by the names containerd keeps", () => {
        const refs = plan.images.map((im) => im.ref);
        f.answer("ctr", `case "$*" in *" images ls name=="*) echo "REF TYPE DIGEST"; echo "x y sha256:$(echo "$6" | sha256sum | cut -c1-64)" ;; esac`);
        const digests = f.ok(imagesImportCommand(n, refs).create).trim().split("\n");
        assert.equal(digests.length, refs.length);
        const ctr = onNode(f.take(), n).filter((c) => c.tool === "ctr").map(line);
        assert.deepEqual(ctr, [`ctr --address ${sock()} -n k8s.io images import -`, ...refs.map((r) => `ctr --address ${sock()} -n k8s.io images ls name==${containerdImageName(r)}`)]);
    });

    it("pod add POD NODE: the manifest at the static pod's path; once containerd cached the ADD of POD-NODE, its result, and the namespace named POD", () => {
        // containerd's ADD, as libcni caches it (the name kubelet gives the pod in CNI_ARGS), and the sandbox's task.
        f.write(`${C.CNI_CACHE_DIR}/${CNI_NETWORK}-${cid}-eth0`, JSON.stringify({ kind: "cniCacheV1", containerId: cid, cniArgs: [["K8S_POD_NAME", kubeletPodName(pod.name, n.name)]], result }));
        f.answer("ctr", `case "$*" in *" tasks ls") echo "TASK PID STATUS"; echo "${cid} 7777 RUNNING" ;; esac`);
        const out = f.ok(staticPodCommand(n, pod, sp).create, sp.text);
        assert.equal(podIpFromCniResult(out), "10.244.1.7");
        assert.equal(f.read(sp.path), sp.text);
        assert.equal(fs.readlinkSync(f.at(`/var/run/netns/${pod.name}`)), f.at("/proc/7777/ns/net"));
        f.take();
    });

    it("containers POD NODE (the cockpit's status): containerd's containers with kubelet's pod label, named by the container label", () => {
        f.answer("ctr", `case "$*" in
  *" tasks ls") echo "TASK PID STATUS"; echo "${cid} 7777 RUNNING"; echo "${APP} 8888 RUNNING" ;;
  *" containers ls -q "*) echo ${cid}; echo ${APP} ;;
  *" containers info ${cid}") echo '{"Labels":{"${C.POD_LABELS.pod}":"x"}}' ;;
  *" containers info ${APP}") echo '{"Labels":{"${C.POD_LABELS.container}":"nginx"}}' ;;
esac`);
        assert.equal(f.ok(inNode(n, C.kubeletArgv.containers(pod.name, n.name))), `${C.SANDBOX_CONTAINER} ${cid} 7777\nnginx ${APP} 8888\n`);
        const ls = onNode(f.take(), n).find((c) => c.tool === "ctr" && c.args.includes("ls") && c.args.includes("-q"))!;
        assert.equal(ls.args.at(-1), `labels."${C.POD_LABELS.pod}"==${kubeletPodName(pod.name, n.name)},labels."${C.POD_LABELS.namespace}"==default`,
            "the lab's pods only: a pod of the same name in another namespace is not one of them");
    });

    it("the node agent (kubelet mode) names the namespace of each static pod's new sandbox, and removes a gone pod's name", async () => {
        fs.rmSync(f.at(`/var/run/netns/${pod.name}`));
        f.answer("ctr", `case "$*" in *" tasks ls") echo "TASK PID STATUS"; echo "${cid} 7878 RUNNING" ;; esac`);
        // The sandbox's process, and a name left by a pod that is gone (its process is no more).
        fs.mkdirSync(f.at("/proc/7878/ns"), { recursive: true });
        fs.writeFileSync(f.at("/proc/7878/ns/net"), "");
        fs.symlinkSync(f.at("/proc/9999/ns/net"), f.at("/var/run/netns/gone"));
        const dockerd = await listen(f, "/var/run/docker.sock");
        try {
            f.ok(inNode(n, C.agentArgv.once()));
            assert.equal(fs.readlinkSync(f.at(`/var/run/netns/${pod.name}`)), f.at("/proc/7878/ns/net"));
            assert.ok(!fs.existsSync(f.at("/var/run/netns/gone")) && !(() => { try { fs.lstatSync(f.at("/var/run/netns/gone")); return true; } catch { return false; } })(),
                "the name of a gone pod's namespace is removed");
        } finally { dockerd.close(); }
        f.take();
    });

    it("pod del POD NODE: the manifest goes, and once containerd's DEL emptied the cache, the namespace's name", () => {
        fs.rmSync(f.at(`${C.CNI_CACHE_DIR}/${CNI_NETWORK}-${cid}-eth0`));
        f.ok(staticPodCommand(n, pod, sp).delete!);
        assert.ok(!f.exists(sp.path));
        assert.ok(!f.exists(`/var/run/netns/${pod.name}`));
    });
});

describe("the node scripts' lock", () => {
    const plan = lab();
    const n = plan.nodes[0];
    const r = n.routes[0];
    let f: FakeNode;
    before(() => { f = new FakeNode(); });
    after(() => f.remove());

    it("a script waits while another holds the lock (flock), and only then changes anything", () => {
        const lock = f.at("/run/podnet/lock");
        fs.mkdirSync(path.dirname(lock), { recursive: true });
        const t = f.ok(`flock ${shq(lock)} sleep 0.6 & sleep 0.2; s=$(date +%s%N); ${inNode(n, C.routeArgv("add", r))} >/dev/null; e=$(date +%s%N); wait; echo $(( (e - s) / 1000000 ))`);
        assert.ok(Number(t) >= 250, `podnet-route add waited ${t} ms for the lock`);
    });

    it("without flock a script refuses, saying so, and changes nothing", () => {
        // The host's tools, but flock, on a PATH of their own.
        const tools = path.join(f.dir, "tools");
        fs.mkdirSync(tools);
        const seen = new Set<string>();
        for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
            if (!fs.existsSync(dir) || seen.has(fs.realpathSync(dir))) { continue; }
            seen.add(fs.realpathSync(dir));
            for (const t of fs.readdirSync(dir)) {
                if (t !== "flock" && !fs.existsSync(path.join(tools, t))) { fs.symlinkSync(path.join(dir, t), path.join(tools, t)); }
            }
        }
        f.take();
        f.systemPath = tools;
        try {
            const run = f.run(inNode(n, C.routeArgv("add", r)));
            assert.equal(run.status, 1);
            assert.match(run.stderr, /flock is missing on this node/);
            assert.deepEqual(changes(f.take()), []);
        } finally { f.systemPath = process.env.PATH ?? "/usr/bin:/bin"; }
    });

    it("PODNET_RUN_BY takes `agent` or nothing", () => {
        const run = f.run(inNode(n, ["podnet-route", "ensure"]), "", { PODNET_RUN_BY: "agnet" });
        assert.equal(run.status, 2);
        assert.match(run.stderr, /PODNET_RUN_BY is 'agnet'/);
    });
});

describe("cluster mode's node side: the control plane's PKI and a node's join, safe to replay", () => {
    let f: FakeNode;
    before(() => { f = new FakeNode(); });
    after(() => f.remove());
    const CP = { PODNET_ADVERTISE_IP: "192.168.1.10", PODNET_SERVICE_CIDR: "10.96.0.0/12", PODNET_POD_RUNTIME: "docker" };
    const NODE = { PODNET_POD_RUNTIME: "cluster" };
    const pki = ["ca", "kube-apiserver", "apiserver-kubelet-client", "admin", "controller-manager", "scheduler"];
    const snapshot = () => Object.fromEntries([...pki.flatMap((n) => [`${n}.crt`, `${n}.key`]), "sa.key", "sa.pub"]
        .map((n) => [n, f.read(`/etc/kubernetes/pki/${n}`)]));
    const subject = (file: string, ...more: string[]) => f.ok(`openssl x509 -in ${shq(f.at(file))} -noout -nameopt compat ${more.join(" ")}`).trim();

    it("pki: one lab CA and an identity per component, the API server's certificate naming its addresses; made once (a replay changes nothing)", () => {
        f.ok("podnet-control-plane pki", "", CP);   // (what `run` does first; no Command runs it on its own)
        const first = snapshot();
        assert.equal(subject("/etc/kubernetes/pki/ca.crt", "-subject"), "subject=/CN=podnet-lab-ca");
        assert.equal(subject("/etc/kubernetes/pki/admin.crt", "-subject", "-issuer"), "subject=/O=system:masters/CN=admin\nissuer=/CN=podnet-lab-ca");
        const sans = subject("/etc/kubernetes/pki/kube-apiserver.crt", "-ext", "subjectAltName");
        for (const san of ["IP Address:127.0.0.1", "IP Address:192.168.1.10", "IP Address:10.96.0.1", "DNS:kubernetes.default.svc.cluster.local", "DNS:localhost"]) {
            assert.ok(sans.includes(san), `${san} in ${sans}`);
        }
        assert.match(f.read("/etc/kubernetes/admin.conf"), /server: https:\/\/127\.0\.0\.1:6443/);
        assert.equal(fs.statSync(f.at("/etc/kubernetes/pki/ca.key")).mode & 0o777, 0o600);
        f.ok("podnet-control-plane pki", "", CP);
        assert.deepEqual(snapshot(), first, "a second run keeps every key and certificate");
        f.take();
    });

    it("a node's request is signed only for its own name; its Node is declared with its subnet; its key stays on the node, made once", () => {
        const words = (argv: readonly string[]) => argv.map(shq).join(" ");
        const csr = f.ok(words(C.joinArgv.csr("node1")), "", NODE);
        assert.equal((csr.match(/BEGIN CERTIFICATE REQUEST/g) ?? []).length, 2, "kubelet's request, then kube-proxy's");
        const key = f.read("/var/lib/kubelet/pki/kubelet-client.key");
        const proxyKey = f.read("/var/lib/kube-proxy/pki/kube-proxy.key");
        assert.match(f.ok(words(C.joinArgv.csr("node1")), "", NODE), /^-----BEGIN CERTIFICATE REQUEST-----/, "a replay asks again");
        assert.equal(f.read("/var/lib/kubelet/pki/kubelet-client.key"), key, "the key is made once");
        assert.equal(f.read("/var/lib/kube-proxy/pki/kube-proxy.key"), proxyKey, "kube-proxy's key is made once");
        f.take();

        // A second request that is not kube-proxy's is refused too.
        const wrongProxy = csr.replace(/(-----END CERTIFICATE REQUEST-----\n)[\s\S]*$/, "$1") +
            f.ok(`openssl req -new -key ${shq(f.at("/var/lib/kube-proxy/pki/kube-proxy.key"))} -subj /O=system:masters/CN=admin`);
        const refusedProxy = f.run(words(C.controlPlaneArgv.sign("node1", "10.244.1.0/24")), wrongProxy, CP);
        assert.equal(refusedProxy.status, 1);
        assert.match(refusedProxy.stderr, /node1's kube-proxy request names 'subject=\/O=system:masters\/CN=admin', not O=system:node-proxier, CN=system:kube-proxy/);
        f.take();

        const refused = f.run(words(C.controlPlaneArgv.sign("node2", "10.244.2.0/24")), csr, CP);
        assert.equal(refused.status, 1);
        assert.match(refused.stderr, /node2's request names 'subject=\/O=system:nodes\/CN=system:node:node1', not O=system:nodes, CN=system:node:node2/);
        assert.deepEqual(f.take().filter((c) => c.tool === "kubectl"), [], "nothing declared for a refused request");

        const signed = f.ok(words(C.controlPlaneArgv.sign("node1", "10.244.1.0/24")), csr, CP);
        assert.equal((signed.match(/BEGIN CERTIFICATE-/g) ?? []).length, 3, "the node's certificate, the CA's, then kube-proxy's");
        const kubectl = f.take().filter((c) => c.tool === "kubectl").map((c) => c.args.filter((a) => !a.startsWith("--kubeconfig") && !a.endsWith("admin.conf")).join(" "));
        assert.deepEqual(kubectl, ["get node node1 -o jsonpath={.spec.podCIDR}", "apply -f -"], "the Node declared before kubelet registers");

        const join = words(C.joinArgv.join("node1", "192.168.1.11", "https://192.168.1.10:6443", "10.244.0.0/16", "192.168.1.0/24", "10.96.0.10", "cluster.local"));
        f.answer("pgrep", "exit 1");   // no kube-proxy loop yet
        const joined = f.ok(join, signed, NODE);
        assert.match(joined, /^node1: kubelet joins https:\/\/192\.168\.1\.10:6443 as system:node:node1 \(certificate [0-9A-F]+, signed by the lab CA\); kube-proxy as system:kube-proxy \(certificate [0-9A-F]+\)\n$/);
        assert.equal(subject("/var/lib/kubelet/pki/kubelet-client.crt", "-subject", "-issuer"), "subject=/O=system:nodes/CN=system:node:node1\nissuer=/CN=podnet-lab-ca");
        assert.equal(subject("/var/lib/kube-proxy/pki/kube-proxy.crt", "-subject", "-issuer"), "subject=/O=system:node-proxier/CN=system:kube-proxy\nissuer=/CN=podnet-lab-ca");
        f.ok(`openssl verify -CAfile ${shq(f.at("/var/lib/kubelet/pki/ca.crt"))} ${shq(f.at("/var/lib/kubelet/pki/kubelet-client.crt"))} ${shq(f.at("/var/lib/kube-proxy/pki/kube-proxy.crt"))}`);
        assert.match(f.read("/var/lib/kubelet/kubeconfig"), /server: https:\/\/192\.168\.1\.10:6443[\s\S]*client-key: .*\/var\/lib\/kubelet\/pki\/kubelet-client\.key/);
        assert.match(f.read("/var/lib/kube-proxy/kubeconfig"), /server: https:\/\/192\.168\.1\.10:6443[\s\S]*name: system:kube-proxy[\s\S]*client-key: .*\/var\/lib\/kube-proxy\/pki\/kube-proxy\.key/);
        const proxyConfig = f.read("/var/lib/kube-proxy/config.yaml");
        for (const want of [/^mode: iptables$/m, /^hostnameOverride: node1$/m, /^bindAddress: 192\.168\.1\.11$/m, /^clusterCIDR: 10\.244\.0\.0\/16$/m,
            /^nodePortAddresses: \[192\.168\.1\.0\/24\]$/m, /^ {2}maxPerCore: 0$/m, /^ {2}tcpEstablishedTimeout: 0s$/m, /^ {2}tcpCloseWaitTimeout: 0s$/m]) {
            assert.match(proxyConfig, want);
        }
        // (the loop is started in the background: its call may be recorded a moment after the join has answered)
        const calls = f.take();
        for (let i = 0; i < 50 && !calls.some((c) => c.tool === "setsid"); i++) { spawnSync("sleep", ["0.05"]); calls.push(...f.take()); }
        assert.deepEqual(calls.filter((c) => c.tool === "pkill").map((c) => c.args.join(" ")), ["-x kubelet", "-x kube-proxy"], "kubelet and kube-proxy start again with their new identities");
        assert.deepEqual(calls.filter((c) => c.tool === "setsid").map((c) => c.args.join(" ")), ["podnet-kubelet proxy-run"], "kube-proxy's loop is started, as none runs");
        fs.rmSync(f.at("../answers/pgrep"), { force: true });
        f.ok(join, signed, NODE);
        assert.deepEqual(f.take().filter((c) => c.tool === "pkill" || c.tool === "setsid"), [], "the same join again: kubelet and kube-proxy are left alone");
        assert.equal(f.run(join, "", NODE).status, 1, "no certificate on stdin: refused");
    });

    it("nodes NODE...: the API server's Nodes are the lab's; a Node of a node that left is deleted, the others are left alone", () => {
        f.answer("kubectl", `case "$*" in *"get nodes -o name") printf 'node/node1\\nnode/node2\\nnode/node4\\n' ;; esac`);
        const said = f.ok(C.controlPlaneArgv.nodes(["node1", "node2", "node3"]).map(shq).join(" "), "", CP);
        assert.equal(said, "control-plane: Node node4 deleted: no such node in the lab\n");
        const deletes = f.take().filter((c) => c.tool === "kubectl" && c.args.includes("delete")).map((c) => c.args.slice(-2).join(" "));
        assert.deepEqual(deletes, ["node node4"]);
        fs.rmSync(f.at("../answers/kubectl"), { force: true });
    });

    it("the names both sides use: the control plane's environment, role and volumes, as the scripts read them", () => {
        const script = (name: string) => fs.readFileSync(path.join(projectRoot(), "node", "bin", name), "utf8");
        const cp = script(C.NODE_SCRIPTS.controlPlane);
        for (const env of [C.CONTROL_PLANE_ENV.advertiseIp, C.CONTROL_PLANE_ENV.serviceCidr]) { assert.ok(cp.includes(`\${${env}`), `podnet-control-plane reads ${env}`); }
        assert.ok(cp.includes(`ETCD_DATA=$PODNET_ROOT${C.CONTROL_PLANE_VOLUMES.etcd}\n`), "etcd's data on its volume");
        assert.ok(cp.includes(`KUBE_DIR=$PODNET_ROOT${C.CONTROL_PLANE_VOLUMES.kubernetes}\n`), "the PKI on its volume");
        assert.ok(script(C.NODE_SCRIPTS.entrypoint).includes(`if [ "\${${C.CONTROL_PLANE_ENV.role}:-node}" = ${C.CONTROL_PLANE_ROLE} ]; then exec ${C.NODE_SCRIPTS.controlPlane} run; fi`));
    });
});
