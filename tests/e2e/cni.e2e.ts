// The CNI contract, judged by tools nobody here wrote: the CNI project's own runtime (cnitool, built from the Go
// module proxy into the e2e node image) runs the node's own configuration, and the reference `bridge` plugin
// (containernetworking-plugins) wires a namespace beside the lab's `podnet` for a side-by-side comparison. Runs on
// node1 of a running lab (routed or overlay, either plugin); leaves nothing behind.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { CNI_BIN_DIR, CNI_CONFLIST, cniConfList, CniPlugin } from "../../plan/cni";
import { formatCidr, ipToNumber, numberToIp, parseCidr, size } from "../../plan/ip";
import { projectRoot } from "../../plan/load";
import { CNI_LOG } from "../../plan/node-contract";
import { LabOutputs } from "../../plan/outputs";
import { IPAM_DIR, readOutputs } from "../lab-probe";

const root = projectRoot();
const OUTPUTS = process.env.PODNET_OUTPUTS ?? path.join(root, ".lab", "e2e", "outputs.json");
const RESULTS = "/var/lib/cni/results";
let out: LabOutputs;
let node: LabOutputs["nodes"][number];
/** The cache libcni (cnitool) wrote for its ADD, kept for the comparison with podnet-cni's. */
let libcniCache: Record<string, unknown> | undefined;

/** Runs a shell script on node1; never throws. */
function sh(script: string, stdin?: string): { status: number; stdout: string; stderr: string } {
    const r = spawnSync("docker", ["exec", "-i", node.container, "sh", "-c", script], { encoding: "utf8", input: stdin ?? "", timeout: 60_000 });
    return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}
function ok(script: string, stdin?: string): string {
    const r = sh(script, stdin);
    assert.equal(r.status, 0, `${script}\n${r.stdout}${r.stderr}`);
    return r.stdout.trim();
}
/** cnitool VERB NETWORK NETNS with a configuration folder, as the CNI project's runtime does it. */
const cnitool = (verb: string, netns: string, confDir = "/etc/cni/net.d", cniArgs = "") =>
    sh(`CNI_PATH=${CNI_BIN_DIR} NETCONFPATH=${confDir} ${cniArgs ? `CNI_ARGS='${cniArgs}' ` : ""}cnitool ${verb} podnet /var/run/netns/${netns}`);
const ipamRecords = () => ok(`ls -1 ${IPAM_DIR} | grep -v -e lock -e last_reserved || true`).split("\n").filter(Boolean).sort();

before(() => {
    out = readOutputs(OUTPUTS);
    node = out.nodes[0];
    assert.ok(out.podNetwork !== "docker0", "the CNI checks need a lab with a CNI (podNetwork lab or vxlan)");
});
// Whatever a failed check left: its attachments (cnitool del), namespaces and configuration folders.
after(() => {
    for (const [ns, dir] of [["cni-judge-a", "/etc/cni/net.d"], ["cni-judge-b", "/tmp/cni-judge/podnet"], ["cni-judge-c", "/tmp/cni-judge/bridge"]]) {
        if (sh(`ip netns exec ${ns} true`).status === 0) { cnitool("del", ns, dir); }
    }
    sh("for n in cni-judge-a cni-judge-b cni-judge-c cni-judge-d cni-judge-e; do ip netns del $n 2>/dev/null; done; ip link del cni-judge-nb 2>/dev/null; " +
        "rm -rf /tmp/cni-judge; docker rm -f cni-judge-sandbox >/dev/null 2>&1");
    // An address a failed parity check left reserved (its sandbox id starts with judge-); its veth went with its namespace.
    sh(`for f in $(grep -l '^judge-' ${IPAM_DIR}/*.*.*.* 2>/dev/null); do rm -f "$f"; done`);
});

describe("where a real node keeps its CNI", () => {
    it(`${CNI_CONFLIST}: the network podnet, CNI 1.0.0, the chosen plugin on the node's bridge, subnet and MTU, then portmap; binaries in ${CNI_BIN_DIR}`, () => {
        const list = JSON.parse(ok(`cat ${CNI_CONFLIST}`));
        assert.equal(list.cniVersion, "1.0.0");
        assert.equal(list.name, "podnet");
        assert.deepEqual(list.plugins.map((p: { type: string }) => p.type), [out.cniPlugin ?? "podnet", "portmap"]);
        assert.equal(list.plugins[0].bridge, node.bridge);
        assert.equal(list.plugins[0].mtu, node.podMtu);
        assert.deepEqual(list.plugins[0].ipam.ranges, [[{ subnet: node.podCidr, gateway: node.bridgeIp }]]);
        for (const bin of ["podnet", "host-local", "bridge", "portmap"]) { ok(`test -x ${CNI_BIN_DIR}/${bin}`); }
        assert.deepEqual(JSON.parse(ok(`echo '{"cniVersion":"1.0.0"}' | CNI_COMMAND=VERSION ${CNI_BIN_DIR}/podnet`)),
            { cniVersion: "1.0.0", supportedVersions: ["1.0.0"] });
    });
});

describe("cnitool (the CNI project's runtime) with the node's own configuration", () => {
    it("add: a valid 1.0.0 result from the node's subnet; check passes; del leaves no veth, address record or cached result", () => {
        const before = ipamRecords();
        ok("ip netns add cni-judge-a");
        const add = cnitool("add", "cni-judge-a");
        assert.equal(add.status, 0, add.stdout + add.stderr);
        const result = JSON.parse(add.stdout);
        assert.equal(result.cniVersion, "1.0.0");
        const [address, prefix] = result.ips[0].address.split("/");
        assert.equal(formatCidr({ base: (ipToNumber(address)! & ~(size(parseCidr(node.podCidr)!) - 1)) >>> 0, prefix: Number(prefix) }), node.podCidr,
            "an address of the node's subnet");
        assert.equal(result.ips[0].gateway, node.bridgeIp);
        const pod = result.interfaces[result.ips[0].interface];
        assert.deepEqual({ name: pod.name, sandbox: pod.sandbox }, { name: "eth0", sandbox: "/var/run/netns/cni-judge-a" });
        const veth = result.interfaces.find((i: { name: string; sandbox?: string }) => !i.sandbox && i.name !== node.bridge).name as string;
        assert.match(ok(`ip -n cni-judge-a -o -4 addr show dev eth0`), new RegExp(` ${address.replace(/\./g, "\\.")}/${prefix} `));
        assert.match(ok(`ip -o link show ${veth}`), new RegExp(`master ${node.bridge} `));
        const cacheFile = ok(`ls ${RESULTS}`).split("\n").find((f) => /^podnet-cnitool-[0-9a-f]+-eth0$/.test(f));
        assert.ok(cacheFile, "libcni cached the result");
        // libcni's own cache, against which podnet-cni's is held (the runtime test below).
        const cache = JSON.parse(ok(`cat ${RESULTS}/${cacheFile}`)) as { kind: string; config: string };
        libcniCache = cache;
        assert.equal(cache.kind, "cniCacheV1");
        assert.deepEqual(JSON.parse(Buffer.from(cache.config, "base64").toString()), JSON.parse(ok(`cat ${CNI_CONFLIST}`)));
        assert.deepEqual(ipamRecords(), [...before, address].sort());

        const check = cnitool("check", "cni-judge-a");
        assert.equal(check.status, 0, `check: ${check.stdout}${check.stderr}`);
        if ((out.cniPlugin ?? "podnet") === "podnet") {
            // CHECK as named checks (bridge.go's validators), each saying what it compared.
            const said = check.stderr.split("\n").filter((l) => l.startsWith("podnet: CHECK ")).map((l) => l.replace(/^podnet: CHECK ([a-z ]+):.*$/, "$1"));
            assert.deepEqual(said.slice(0, 5), ["bridge", "host veth", "pod interface", "addresses", "routes"], check.stderr);
            assert.match(check.stderr, new RegExp(`CHECK bridge: ${node.bridge} is a bridge with MAC ${node.bridgeMac}, as the result says`));
            assert.match(check.stderr, new RegExp(`CHECK addresses: eth0 has ${address}/${prefix}, as the result says`));
        }
        // CHECK must also fail when the network is not as the ADD left it.
        ok("ip -n cni-judge-a route del default");
        const broken = cnitool("check", "cni-judge-a");
        assert.notEqual(broken.status, 0, "check passed with the default route gone");
        assert.match(broken.stdout + broken.stderr, /route/i, "CHECK names the missing route");
        ok(`ip -n cni-judge-a route add default via ${node.bridgeIp} dev eth0 && ip link set ${veth} nomaster`);
        const loose = cnitool("check", "cni-judge-a");
        assert.notEqual(loose.status, 0, "check passed with the host veth off the bridge");
        if ((out.cniPlugin ?? "podnet") === "podnet") { assert.ok((loose.stdout + loose.stderr).includes(veth), `CHECK names ${veth}: ${loose.stdout}${loose.stderr}`); }

        const del = cnitool("del", "cni-judge-a");
        assert.equal(del.status, 0, del.stdout + del.stderr);
        assert.equal(sh(`ip link show ${veth}`).status, 1, `${veth} is gone`);
        assert.equal(sh("ip -n cni-judge-a link show eth0").status, 1, "eth0 is gone from the namespace");
        assert.deepEqual(ipamRecords(), before, "the address is released");
        assert.ok(!ok(`ls ${RESULTS}`).split("\n").some((f) => f.startsWith("podnet-cnitool-")), "no cached result left");
        const again = cnitool("del", "cni-judge-a");
        assert.equal(again.status, 0, `a second del succeeds too: ${again.stdout}${again.stderr}`);
        ok("ip netns del cni-judge-a");
        const gone = cnitool("del", "cni-judge-a");
        assert.equal(gone.status, 0, `del succeeds when the namespace is gone: ${gone.stdout}${gone.stderr}`);
    });
});

/** What must agree between two plugins: everything but names, MACs and interface indexes. */
function comparable(result: any, live: { addr: any[]; route: any[]; veth: any }) {
    return {
        result: {
            cniVersion: result.cniVersion,
            interfaces: result.interfaces.map((i: any) => ({ inSandbox: !!i.sandbox })),
            ips: result.ips, routes: result.routes, dns: result.dns,
        },
        addr: live.addr.map((l: any) => ({
            ifname: l.ifname, flags: l.flags, mtu: l.mtu, qdisc: l.qdisc, operstate: l.operstate, txqlen: l.txqlen, link_type: l.link_type,
            // The IPv6 link-local address is made from the MAC.
            addr_info: l.addr_info.filter((a: any) => !(a.family === "inet6" && a.scope === "link")),
        })),
        route: live.route,
        veth: { master: live.veth.master, mtu: live.veth.mtu, operstate: live.veth.operstate },
    };
}

describe("the lab's podnet against the reference bridge plugin, on the same subnet", () => {
    it("both wire a fresh namespace the same way: the result (interfaces, ips, routes) and the live addresses, routes and host veth", () => {
        const wired: Record<string, ReturnType<typeof comparable>> = {};
        // The same address for both (host-local's IP argument), one after the other.
        const sub = parseCidr(node.podCidr)!;
        const last = numberToIp(sub.base + size(sub) - 6);
        for (const [plugin, ns] of [["podnet", "cni-judge-b"], ["bridge", "cni-judge-c"]] as [CniPlugin, string][]) {
            const list = cniConfList(plugin, { bridge: node.bridge, podCidr: node.podCidr, gateway: node.bridgeIp, mtu: node.podMtu });
            ok(`mkdir -p /tmp/cni-judge/${plugin} && cat > /tmp/cni-judge/${plugin}/10-judge.conflist && ip netns add ${ns}`, JSON.stringify(list));
            const add = cnitool("add", ns, `/tmp/cni-judge/${plugin}`, `IgnoreUnknown=1;IP=${last}`);
            assert.equal(add.status, 0, `${plugin}: ${add.stdout}${add.stderr}`);
            const result = JSON.parse(add.stdout);
            const veth = result.interfaces.find((i: any) => !i.sandbox && i.name !== node.bridge).name;
            wired[plugin] = comparable(result, {
                addr: JSON.parse(ok(`ip -n ${ns} -j addr`)),
                route: JSON.parse(ok(`ip -n ${ns} -j route`)),
                veth: JSON.parse(ok(`ip -j link show ${veth}`))[0],
            });
            const del = cnitool("del", ns, `/tmp/cni-judge/${plugin}`);
            assert.equal(del.status, 0, `${plugin} del: ${del.stdout}${del.stderr}`);
            ok(`ip netns del ${ns}`);
        }
        assert.equal(wired.podnet.result.ips[0].address, `${last}/${sub.prefix}`);
        assert.deepEqual(wired.podnet, wired.bridge);
    });
});

/** A plugin called directly, as a runtime calls it: CNI_* in the environment, its configuration on stdin; the answer parsed. */
function callPlugin(plugin: CniPlugin, env: Record<string, string>, conf: object) {
    const vars = Object.entries({ CNI_IFNAME: "eth0", CNI_PATH: CNI_BIN_DIR, ...env }).map(([k, v]) => `${k}='${v}'`).join(" ");
    const r = sh(`env ${vars} ${CNI_BIN_DIR}/${plugin}`, JSON.stringify(conf));
    let answer: any;
    try { answer = r.stdout.trim() ? JSON.parse(r.stdout) : undefined; } catch { assert.fail(`${plugin}: not JSON on stdout: ${r.stdout}${r.stderr}`); }
    return { status: r.status, answer, stderr: r.stderr };
}
/** The first plugin of a conflist for `plugin` on node1's subnet, as the runtime hands it over (name and cniVersion injected). */
function pluginConf(plugin: CniPlugin, bridge = node.bridge): object {
    const list = cniConfList(plugin, { bridge, podCidr: node.podCidr, gateway: node.bridgeIp, mtu: node.podMtu });
    return { ...list.plugins[0], name: list.name, cniVersion: list.cniVersion };
}

describe("parity with the reference bridge plugin (bridge.go), judged side by side", () => {
    it("a link of the bridge's name that is not a bridge is refused by both, with the spec's error JSON, before any address is taken; podnet names the link and its kind", () => {
        const answers: Record<string, any> = {};
        ok("ip link add cni-judge-nb type veth peer name cni-judge-nbp");
        try {
            for (const plugin of ["podnet", "bridge"] as CniPlugin[]) {
                const before = ipamRecords();
                ok("ip netns add cni-judge-d");
                try {
                    const r = callPlugin(plugin, { CNI_COMMAND: "ADD", CNI_CONTAINERID: "judge-nb", CNI_NETNS: "/var/run/netns/cni-judge-d" }, pluginConf(plugin, "cni-judge-nb"));
                    assert.notEqual(r.status, 0, `${plugin} took a veth for its bridge: ${JSON.stringify(r.answer)}`);
                    answers[plugin] = r.answer;
                    assert.deepEqual(ipamRecords(), before, `${plugin}: no address taken`);
                    assert.notEqual(sh("ip -n cni-judge-d link show eth0").status, 0, `${plugin}: no eth0 made`);
                    assert.equal(ok("ip -d -o link show cni-judge-nb").includes("veth"), true, `${plugin}: the veth is left as it was`);
                } finally { sh("ip netns del cni-judge-d"); }
            }
        } finally { sh("ip link del cni-judge-nb"); }
        process.stdout.write(`# bridge.go: ${JSON.stringify(answers.bridge)}\n# podnet:    ${JSON.stringify(answers.podnet)}\n`);
        for (const plugin of ["podnet", "bridge"]) { assert.match(answers[plugin].msg, /"cni-judge-nb" already exists but is not a bridge/, plugin); }
        // The spec's error carries cniVersion; the reference plugin of Debian's containernetworking-plugins 1.1.1 leaves it out.
        assert.equal(answers.podnet.cniVersion, "1.0.0");
        assert.equal(answers.podnet.code, answers.bridge.code, "the same error code");
        assert.match(answers.podnet.msg, /it is veth/, "podnet names the link's kind");
    });

    it("DEL removes the pod's link before it releases the address: a DEL that cannot remove the link (CNI_NETNS is not a namespace) fails and the address stays reserved, in both", () => {
        const sub = parseCidr(node.podCidr)!;
        const pinned = numberToIp(sub.base + size(sub) - 7);
        ok("mkdir -p /tmp/cni-judge && : > /tmp/cni-judge/not-a-netns");
        const said: Record<string, string> = {};
        for (const plugin of ["podnet", "bridge"] as CniPlugin[]) {
            const env = { CNI_CONTAINERID: `judge-del-${plugin}`, CNI_ARGS: `IgnoreUnknown=1;IP=${pinned}` };
            const before = ipamRecords();
            ok("ip netns add cni-judge-e");
            try {
                const add = callPlugin(plugin, { ...env, CNI_COMMAND: "ADD", CNI_NETNS: "/var/run/netns/cni-judge-e" }, pluginConf(plugin));
                assert.equal(add.status, 0, `${plugin} ADD: ${JSON.stringify(add.answer)} ${add.stderr}`);
                assert.deepEqual(ipamRecords(), [...before, pinned].sort(), `${plugin}: ${pinned} reserved by the ADD`);

                const failed = callPlugin(plugin, { ...env, CNI_COMMAND: "DEL", CNI_NETNS: "/tmp/cni-judge/not-a-netns" }, pluginConf(plugin));
                assert.notEqual(failed.status, 0, `${plugin}: a DEL that could not remove the link succeeded`);
                said[plugin] = JSON.stringify(failed.answer);
                assert.equal(typeof failed.answer?.code, "number", `${plugin}: the spec's error JSON: ${said[plugin]}`);
                if (plugin === "podnet") { assert.equal(failed.answer.cniVersion, "1.0.0", said[plugin]); }
                assert.deepEqual(ipamRecords(), [...before, pinned].sort(), `${plugin}: the address is released while the pod's link is still there`);
                assert.equal(sh("ip -n cni-judge-e link show eth0").status, 0, `${plugin}: the pod's eth0 is still there`);

                const del = callPlugin(plugin, { ...env, CNI_COMMAND: "DEL", CNI_NETNS: "/var/run/netns/cni-judge-e" }, pluginConf(plugin));
                assert.equal(del.status, 0, `${plugin} DEL: ${JSON.stringify(del.answer)} ${del.stderr}`);
                assert.deepEqual(ipamRecords(), before, `${plugin}: the DEL that removed the link released the address`);
                assert.notEqual(sh("ip -n cni-judge-e link show eth0").status, 0, `${plugin}: eth0 is gone`);
            } finally { sh("ip netns del cni-judge-e"); }
        }
        process.stdout.write(`# the DEL that could not remove the link: bridge.go ${said.bridge}; podnet ${said.podnet}\n`);
    });
});

describe("bad calls get the spec's error JSON and code, and change nothing", () => {
    const conf = () => ok(`cat ${CNI_CONFLIST}`);
    const call = (env: string, stdin: string) => {
        const r = sh(`env ${env} ${CNI_BIN_DIR}/podnet`, stdin);
        let answer: { cniVersion?: string; code?: number; msg?: string } = {};
        try { answer = JSON.parse(r.stdout); } catch { assert.fail(`not JSON on stdout: ${r.stdout}${r.stderr}`); }
        return { status: r.status, answer };
    };
    /** The first plugin's configuration as the runtime hands it over (name and cniVersion injected). */
    const pluginConf = (edit: (c: any) => void = () => undefined) => {
        const list = JSON.parse(conf());
        const c = { ...list.plugins[0], name: list.name, cniVersion: list.cniVersion, type: "podnet" };
        edit(c);
        return JSON.stringify(c);
    };
    const cases: [string, string, () => string, number, RegExp][] = [
        ["ADD without CNI_NETNS", "CNI_COMMAND=ADD CNI_CONTAINERID=judge1 CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin", () => pluginConf(), 4, /CNI_NETNS/],
        ["an unsupported cniVersion", "CNI_COMMAND=ADD CNI_CONTAINERID=judge1 CNI_NETNS=/var/run/netns/cni-judge-x CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin",
            () => pluginConf((c) => { c.cniVersion = "9.9.9"; }), 1, /9\.9\.9/],
        ["a malformed configuration on stdin", "CNI_COMMAND=ADD CNI_CONTAINERID=judge1 CNI_NETNS=/var/run/netns/cni-judge-x CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin",
            () => "{\"cniVersion\": \"1.0.0\", \"name\": ", 6, /decode/],
        ["a configuration without a bridge", "CNI_COMMAND=ADD CNI_CONTAINERID=judge1 CNI_NETNS=/var/run/netns/cni-judge-x CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin",
            () => pluginConf((c) => { delete c.bridge; }), 7, /bridge/],
        ["an ADD into a namespace that does not exist", "CNI_COMMAND=ADD CNI_CONTAINERID=judge1 CNI_NETNS=/var/run/netns/no-such-namespace CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin",
            () => pluginConf(), 3, /no-such-namespace/],
        ["an unknown CNI_COMMAND", "CNI_COMMAND=FROB CNI_CONTAINERID=judge1 CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin", () => pluginConf(), 4, /FROB/],
    ];
    for (const [what, env, stdin, code, msg] of cases) {
        it(`${what}: code ${code}`, () => {
            const before = ipamRecords();
            const { status, answer } = call(env, stdin());
            assert.notEqual(status, 0, "a non-zero exit");
            assert.equal(answer.code, code, JSON.stringify(answer));
            assert.match(answer.msg ?? "", msg);
            assert.equal(answer.cniVersion, "1.0.0");
            assert.deepEqual(ipamRecords(), before, "no address taken");
        });
    }
});

describe("the runtime's call (podnet-cni, libcni's semantics), on a sandbox of its own", () => {
    it("ADD runs the plugins in order with prevResult and the pod's CNI_ARGS, caches the result as libcni does, CHECK passes, DEL runs the ADD's plugins in reverse (even after the configuration changed) and leaves nothing", () => {
        const pause = ok("docker ps --filter label=io.kubernetes.container.name=POD --format '{{.Image}}' | head -n1");
        const id = ok(`docker rm -f cni-judge-sandbox >/dev/null 2>&1; docker run -d --network none --name cni-judge-sandbox ${pause}`);
        try {
            const before = ipamRecords();
            const result = JSON.parse(ok(`podnet-cni ADD cni-judge ${id}`));
            const calls = ok("podnet-cni LAST cni-judge").split("\n").map((l) => JSON.parse(l));
            assert.deepEqual(calls.map((c) => c.plugin), [out.cniPlugin ?? "podnet", "portmap"], "the conflist's plugins, in order");
            assert.deepEqual(calls[0].env, {
                CNI_COMMAND: "ADD", CNI_CONTAINERID: id, CNI_NETNS: "/var/run/netns/cni-judge", CNI_IFNAME: "eth0",
                CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=cni-judge;K8S_POD_INFRA_CONTAINER_ID=${id}`, CNI_PATH: CNI_BIN_DIR,
            });
            assert.equal(calls[0].stdin.name, "podnet", "the list's name is injected");
            assert.equal(calls[0].stdin.prevResult, undefined, "the first plugin has no prevResult");
            assert.deepEqual(calls[1].stdin.prevResult, calls[0].stdout, "the next plugin gets the previous one's result");
            assert.deepEqual(calls[1].stdout, result, "the last plugin's result is the ADD's");
            // The cache, in libcni's format: the keys libcni's own cache had (cnitool, above; it omits cniArgs when empty).
            const cache = JSON.parse(ok(`cat ${RESULTS}/podnet-${id}-eth0`));
            assert.deepEqual(Object.keys(cache).sort(), ["cniArgs", "config", "containerId", "ifName", "kind", "netns", "networkName", "result"]);
            assert.ok(libcniCache, "the cnitool test ran first and kept libcni's cache");
            assert.deepEqual(Object.keys(libcniCache).filter((k) => k !== "cniArgs").sort(), Object.keys(cache).filter((k) => k !== "cniArgs").sort());
            assert.equal(cache.kind, libcniCache.kind);
            assert.deepEqual(JSON.parse(Buffer.from(cache.config, "base64").toString()), JSON.parse(ok(`cat ${CNI_CONFLIST}`)));
            assert.deepEqual(cache.cniArgs[2], ["K8S_POD_NAME", "cni-judge"]);
            ok("podnet-cni CHECK cni-judge");
            const ip = result.ips[0].address.split("/")[0];
            assert.deepEqual(ipamRecords(), [...before, ip].sort());

            // The node's configuration changes under the pod (the other plugin): its DEL still runs the plugins of its ADD.
            const original = ok(`cat ${CNI_CONFLIST}`);
            const other: CniPlugin = (out.cniPlugin ?? "podnet") === "podnet" ? "bridge" : "podnet";
            ok("podnet-cni CONFIG", JSON.stringify(cniConfList(other, { bridge: node.bridge, podCidr: node.podCidr, gateway: node.bridgeIp, mtu: node.podMtu })));
            try { ok(`podnet-cni DEL cni-judge ${id}`); } finally { ok("podnet-cni CONFIG", original); }
            const dels = ok(`jq -c 'select(.env.CNI_CONTAINERID == "${id}" and .env.CNI_COMMAND == "DEL")' ${CNI_LOG}`)
                .split("\n").map((l) => JSON.parse(l));
            assert.deepEqual(dels.map((d) => d.plugin), ["portmap", out.cniPlugin ?? "podnet"], "DEL runs the ADD's plugins in reverse order, the configuration changed or not");
            for (const d of dels) { assert.deepEqual(d.stdin.prevResult, result, `${d.plugin}'s DEL gets the cached result as prevResult`); }
            assert.deepEqual(ipamRecords(), before, "the address is released");
            assert.equal(sh(`test -e ${RESULTS}/podnet-${id}-eth0`).status, 1, "the cached result is gone");
            assert.notEqual(sh("ip netns exec cni-judge true").status, 0, "the namespace's name is gone");
        } finally {
            sh("docker rm -f cni-judge-sandbox");
        }
    });
});
