// `trace SRC svc/NAME` (cluster mode): one request to a Service, hop by hop, read from the live nodes. The request is
// sent for real from a known source port (from the pod's namespace with the node's busybox nc, or from the outside
// host to a node's NodePort), so the conntrack entry it left names the pod kube-proxy chose; the rules it matched are
// read from that node's `iptables-save -t nat`. Then the path to the chosen pod, as `trace` draws pod to pod, and the
// reply rewritten back.
import { AnyLabOutputs, ServiceOutput } from "../plan/outputs";
import { CockpitError, hostDocker, onNode, q } from "./live";
import { withLiveIps } from "./runtime";
import { Hop, trace, TraceView } from "./trace";

type NodeOut = AnyLabOutputs["nodes"][number];

/** One conntrack line of /proc/net/nf_conntrack: the original tuple and the reply's. */
export interface Conntrack { line: string; orig: { src: string; dst: string; sport: string; dport: string }; reply: { src: string; dst: string; sport: string; dport: string } }

/** Pure: the TCP and UDP entries of /proc/net/nf_conntrack, each with its two tuples. */
export function parseConntrack(text: string): Conntrack[] {
    const out: Conntrack[] = [];
    for (const line of text.split("\n")) {
        const t = [...line.matchAll(/src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/g)];
        if (t.length !== 2) { continue; }
        const tuple = (m: RegExpMatchArray) => ({ src: m[1], dst: m[2], sport: m[3], dport: m[4] });
        out.push({ line: line.replace(/\s+/g, " ").trim(), orig: tuple(t[0]), reply: tuple(t[1]) });
    }
    return out;
}

/**
 * Pure: the entry the request made: from `src` to `dst`:`dport`, and not among the entries seen just before it (its
 * source port is the one that is new).
 */
export function newConntrack(before: readonly Conntrack[], after: readonly Conntrack[], src: string, dst: string, dport: number): Conntrack | undefined {
    const key = (c: Conntrack) => `${c.orig.src}:${c.orig.sport}>${c.orig.dst}:${c.orig.dport}`;
    const seen = new Set(before.map(key));
    const mine = (c: Conntrack) => c.orig.src === src && c.orig.dst === dst && c.orig.dport === String(dport);
    return after.find((c) => mine(c) && !seen.has(key(c)));
}

/** Pure: kube-proxy's rules for one Service port, from `iptables-save -t nat`: what a request to it matches. */
export function serviceRules(nat: string, svc: string, portName: string | undefined, to: { ip: string; port: number }, node?: { lanIp: string; nodePort: number }):
    { entry?: string; nodePort?: string; ext?: string[]; svcChain?: string; svcRules: string[]; sep?: string[] } {
    const lines = nat.split("\n");
    const comment = `default/${svc}${portName ? `:${portName}` : ""}`;
    const entry = lines.find((l) => l.startsWith("-A KUBE-SERVICES ") && l.includes(`-d ${to.ip}/32`) && l.includes(`--dport ${to.port} `) && l.includes(`"${comment} cluster IP"`));
    const nodePort = node ? lines.find((l) => l.startsWith("-A KUBE-NODEPORTS ") && l.includes(`--dport ${node.nodePort} `) && l.includes(`"${comment}"`)) : undefined;
    const extChain = nodePort && /-j (KUBE-EXT-\S+)/.exec(nodePort)?.[1];
    const svcChain = /-j (KUBE-SVC-\S+)/.exec(entry ?? "")?.[1] ?? (extChain ? `KUBE-SVC-${extChain.slice("KUBE-EXT-".length)}` : undefined);
    const svcRules = svcChain ? lines.filter((l) => l.startsWith(`-A ${svcChain} `)) : [];
    return {
        ...(entry ? { entry } : {}),
        ...(nodePort ? { nodePort } : {}),
        ...(extChain ? { ext: lines.filter((l) => l.startsWith(`-A ${extChain} `)) } : {}),
        ...(svcChain ? { svcChain } : {}),
        svcRules,
    };
}

/** Pure: the KUBE-SEP chain's rules that DNAT to `endpoint` (ip:port). */
export function sepRules(nat: string, svcRules: readonly string[], endpoint: string): string[] {
    const lines = nat.split("\n");
    for (const r of svcRules) {
        const sep = /-j (KUBE-SEP-\S+)/.exec(r)?.[1];
        if (!sep) { continue; }
        const rules = lines.filter((l) => l.startsWith(`-A ${sep} `));
        if (rules.some((l) => l.includes(`--to-destination ${endpoint}`))) { return rules; }
    }
    return [];
}

/** Pure: `svc/NAME[@NODE]`, a trace's target: the Service's name and, for the outside host's request to the NodePort, the node. */
export function parseServiceTarget(to: string): { name: string; via?: string } | undefined {
    const m = /^svc\/([^@]*)(?:@(.*))?$/.exec(to);
    return m ? { name: m[1], ...(m[2] !== undefined ? { via: m[2] } : {}) } : undefined;
}

/** Pure: why a request from `from` to this target cannot be traced as asked, or undefined: `@NODE` is the outside host's. */
export function viaProblem(from: string, outside: string, target: { name: string; via?: string }): string | undefined {
    return from !== outside && target.via !== undefined
        ? `svc/${target.name}@${target.via}: @NODE is for the outside host's request to the NodePort through that node; from pod ${from}, trace svc/${target.name} (its ClusterIP)`
        : undefined;
}

/** Pure: the port a probe or a trace sends its HTTP request to: the Service's first TCP port. */
export function tcpPort(svc: Pick<ServiceOutput, "ports">): ServiceOutput["ports"][number] | undefined {
    return svc.ports.find((p) => (p.protocol ?? "TCP") === "TCP");
}

const GET = (ip: string, port: number) => `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox timeout 4 busybox nc -w 2 ${ip} ${port} >/dev/null 2>&1`;
const CONNTRACK = "cat /proc/net/nf_conntrack";

function findService(out: AnyLabOutputs, name: string): ServiceOutput {
    const svc = (out.services ?? []).find((s) => s.name === name);
    if (!svc) {
        throw new CockpitError(out.podRuntime === "cluster"
            ? `trace: no Service ${name}; Services: ${(out.services ?? []).map((s) => s.name).join(", ") || "none"}`
            : `trace: Services exist in cluster mode only (this lab's podRuntime is ${out.podRuntime ?? "docker"}); pulumi config set podnet-lab:podRuntime cluster`);
    }
    return svc;
}

/**
 * From a pod to a Service's ClusterIP (its first port), or from the outside host to the Service's NodePort on a node
 * (`via`: node1 unless named).
 */
export async function traceService(declared: AnyLabOutputs, srcName: string, svcName: string, via?: string): Promise<TraceView> {
    const { out } = await withLiveIps(declared);
    const svc = findService(out, svcName);
    const port = tcpPort(svc);
    if (!port) { throw new CockpitError(`trace: Service ${svc.name} has no TCP port: the trace sends an HTTP request`); }
    const problem = viaProblem(srcName, out.outside.name, { name: svc.name, ...(via !== undefined ? { via } : {}) });
    if (problem) { throw new CockpitError(`trace: ${problem}`); }
    const hops: Hop[] = [];
    const outside = srcName === out.outside.name;
    let node: NodeOut;
    let entryText: string;
    let ct: Conntrack | undefined;
    if (outside) {
        if (port.nodePort === undefined) { throw new CockpitError(`trace: Service ${svc.name} is ${svc.type}: it has no node port; from the outside host, trace a NodePort Service`); }
        node = out.nodes.find((n) => n.name === (via ?? out.nodes[0].name)) as NodeOut;
        if (!node) { throw new CockpitError(`trace: no node ${via}; nodes: ${out.nodes.map((n) => n.name).join(", ")}`); }
        const before = parseConntrack(await onNode(node.container, CONNTRACK));
        // From the outside host: busybox's nc if it has one (the e2e image), else curl (the official nginx image).
        hostDocker("exec", out.outside.container, "sh", "-c",
            `if command -v nc >/dev/null; then printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${node.lanIp} ${port.nodePort}; else curl -s -m 2 http://${node.lanIp}:${port.nodePort}/; fi >/dev/null 2>&1; true`);
        ct = newConntrack(before, parseConntrack(await onNode(node.container, CONNTRACK)), out.outside.ip, node.lanIp, port.nodePort);
        hops.push({ at: out.outside.name, what: "leaves", address: `${out.outside.ip}${ct ? `:${ct.orig.sport}` : ""}`, detail: `to ${node.name}'s LAN address ${node.lanIp}, port ${port.nodePort} (the NodePort of ${svc.name})` });
        entryText = `${node.lanIp}:${port.nodePort}`;
    } else {
        const src = out.pods.find((p) => p.name === srcName);
        if (!src) { throw new CockpitError(`trace: no pod ${srcName}; pods: ${out.pods.map((p) => p.name).join(", ")}, outside host: ${out.outside.name}`); }
        node = out.nodes.find((n) => n.name === src.node) as NodeOut;
        const before = parseConntrack(await onNode(node.container, CONNTRACK));
        await onNode(node.container, `ip netns exec ${q(src.name)} sh -c ${q(GET(svc.clusterIp, port.port))}; true`);
        ct = newConntrack(before, parseConntrack(await onNode(node.container, CONNTRACK)), src.ip, svc.clusterIp, port.port);
        hops.push({ at: `pod ${src.name}`, what: "leaves", interface: "eth0", address: `${src.ip}${ct ? `:${ct.orig.sport}` : ""}`, detail: `to ${svc.name}'s ClusterIP ${svc.clusterIp}:${port.port}: no pod has it; the pod's default route sends it to its gateway ${node.bridgeIp}` });
        entryText = `${svc.clusterIp}:${port.port}`;
    }
    const nat = await onNode(node.container, "iptables-save -t nat");
    const rules = serviceRules(nat, svc.name, port.name, { ip: svc.clusterIp, port: port.port }, outside ? { lanIp: node.lanIp, nodePort: port.nodePort as number } : undefined);
    if (outside) {
        hops.push({ at: node.name, what: "matches", detail: rules.nodePort ?? `no KUBE-NODEPORTS rule for port ${port.nodePort}: is kube-proxy running on ${node.name}?` });
        for (const r of rules.ext ?? []) { hops.push({ at: node.name, what: "matches", detail: r }); }
    } else {
        hops.push({ at: node.name, what: "matches", detail: rules.entry ?? `no KUBE-SERVICES rule for ${entryText}: is kube-proxy running on ${node.name}?` });
    }
    if (rules.svcChain) {
        hops.push({ at: node.name, what: "chooses", detail: `${rules.svcChain}: one of ${svc.endpoints.length} endpoint(s) at random (${rules.svcRules.filter((r) => /KUBE-SEP-/.test(r)).length} rule(s) -m statistic)` });
    }
    if (!ct) {
        return { from: { name: srcName, ip: srcName === out.outside.name ? out.outside.ip : hops[0].address?.split(":")[0] ?? "" } as TraceView["from"], to: { name: `svc/${svc.name}`, ip: entryText }, hops,
            verdict: `no answer: ${node.name} has no conntrack entry for the request (no rule matched, or no endpoint answered)`, service: svc.name };
    }
    const chosen = `${ct.reply.src}:${ct.reply.sport}`;
    const pod = out.pods.find((p) => p.ip === ct.reply.src);
    for (const r of sepRules(nat, rules.svcRules, chosen)) {
        // The chain's first rule marks the endpoint's own requests (hairpin); any other source passes it.
        const only = /-s (\S+)\/32 /.exec(r)?.[1];
        const what = /DNAT/.test(r) ? "DNAT" : only && only !== ct.orig.src ? "passes" : "matches";
        hops.push({ at: node.name, what, detail: what === "passes" ? `${r}   (only ${only}'s own requests: hairpin)` : r });
    }
    hops.push({ at: node.name, what: "conntrack", detail: ct.line });
    const masq = ct.reply.dst !== ct.orig.src;
    if (masq) {
        const why = outside ? "external traffic" : "a pod reaching its own Service: hairpin";
        hops.push({ at: node.name, what: "SNAT", detail: `KUBE-POSTROUTING: the packet was marked (${why}), so it is masqueraded: its source becomes ${ct.reply.dst}, and the reply comes back through ${node.name}` });
    }
    let verdict: string;
    if (pod && srcName !== out.outside.name) {
        // From here the packet is pod to pod: the same path trace draws.
        const rest = await trace(out, srcName, pod.name);
        const sees = masq ? `it sees ${ct.reply.dst} (masqueraded: the bridge sent the packet back out of the port it came in by, in hairpin mode)` : `source unchanged: it sees ${ct.orig.src}, the client pod's own IP`;
        hops.push(...rest.hops.slice(1).map((h) => ({ ...h, ...(h.what === "arrives" ? { detail: sees } : {}) })));
        hops.push({ at: node.name, what: "reply", detail: `conntrack rewrites the reply's source ${chosen} back to ${svc.clusterIp}:${port.port}: the client sees the address it asked` });
        verdict = `Service ${svc.name}: ${entryText} was DNATed on ${node.name} to ${pod.name} (${chosen}); ${masq ? `hairpin: masqueraded behind ${ct.reply.dst}` : rest.verdict}`;
    } else {
        const where = pod ? `${pod.name} on ${pod.node}` : ct.reply.src;
        hops.push({ at: pod ? `pod ${pod.name}` : ct.reply.src, what: "arrives", interface: "eth0", address: chosen, detail: `from ${ct.reply.dst}${masq ? " (masqueraded)" : ""}${pod && pod.node !== node.name ? `, across from ${node.name} to ${pod.node}` : ""}` });
        hops.push({ at: node.name, what: "reply", detail: `conntrack rewrites the reply back: source ${entryText}, destination ${ct.orig.src}:${ct.orig.sport}` });
        verdict = `Service ${svc.name}: ${entryText} on ${node.name} was DNATed to ${where} (${chosen})${masq ? `, masqueraded behind ${ct.reply.dst}` : ""}`;
    }
    const from = srcName === out.outside.name ? { name: out.outside.name, ip: out.outside.ip } : out.pods.find((p) => p.name === srcName)!;
    return { from: from as TraceView["from"], to: { name: `svc/${svc.name}`, ip: entryText }, hops, verdict, service: svc.name, ...(pod ? { endpoint: pod.name } : {}) };
}
