// `matrix`: every pod to every other pod, every pod to the outside host, and (cluster mode) every pod to each
// Service. Probes run from the nodes, in the pods' network namespaces, with the node's own busybox (so whatever
// images the pods run): a throwaway httpd in each destination pod's namespace answers with its pod's name and logs
// each client's address; the outside host logs its clients too. A request to a Service goes to its ClusterIP and is
// answered by the pods' own app; the conntrack entry it leaves on the client's node says which pod kube-proxy chose
// and which source address that pod saw. Everything the probes start is removed afterwards.
import { execFileSync } from "node:child_process";
import { AnyLabOutputs } from "../plan/outputs";
import { onNode, q } from "./live";
import { parseProbeLog, sections } from "./parse";
import { newIpNote, withLiveIps } from "./runtime";
import { newConntrack, parseConntrack, tcpPort } from "./service-trace";

export interface Pair {
    from: string; to: string; reached: boolean; sourceSeen: string | null; nat: boolean | null;
    /** The address probed: the pod's (kubelet mode: its live one), or the outside host's. Absent in older saved matrices. */
    toIp?: string;
    /** service: `to` is svc/NAME, `toIp` its ClusterIP:port. */
    path: "same node" | "across nodes" | "outside" | "service";
    /**
     * Set when the answer came from another pod than the one addressed (the "before" state's duplicate IPs), or, to a
     * Service, from an address that is none of its endpoints.
     */
    answeredBy?: string;
    /** To a Service: the pod kube-proxy chose (the conntrack entry's reply source), by name, else its address. */
    endpoint?: string;
}

const PORT = 17777;
const DIR = "/run/podnet-probe";

/**
 * What the model expects of one pair: pod to pod reached, by the right pod, with the client's own address; the outside
 * reached through masquerade; a Service answered by one of its endpoints, which sees the client's own address, unless
 * the client is that endpoint itself (hairpin: kube-proxy masquerades it, or the reply would not come back through the
 * bridge).
 */
export function pairHolds(p: Pair): boolean {
    if (!p.reached || p.answeredBy) { return false; }
    if (p.path === "outside") { return p.nat === true; }
    if (p.path === "service") { return !!p.endpoint && p.nat === (p.endpoint === p.from); }
    return p.nat === false;
}

export function modelHolds(pairs: readonly Pair[]): boolean {
    return pairs.length > 0 && pairs.every(pairHolds);
}

/** One throwaway httpd per pod on the node; it serves /from-<client> (one file per client) so its log names the client. */
function serverScript(pods: readonly string[], clients: readonly string[]): string {
    return [`mkdir -p ${DIR}`, ...pods.map((p) => [
        `mkdir -p ${DIR}/${q(p)}`, ...clients.map((c) => `echo podnet-probe ${q(p)} > ${DIR}/${q(p)}/from-${q(c)}`),
        `(ip netns exec ${q(p)} busybox httpd -f -vv -p ${PORT} -h ${DIR}/${q(p)} </dev/null >/dev/null 2> ${DIR}/${q(p)}.log & echo $! > ${DIR}/${q(p)}.pid)`,
    ].join("; ")), "sleep 0.2"].join("; ");
}

function clientScript(pod: string, podIp: string, targets: readonly { name: string; ip: string; port: number }[], services: readonly ServiceTarget[]): string {
    const get = (path: string, ip: string, port: number) =>
        `printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | ip netns exec ${q(pod)} busybox timeout 4 busybox nc -w 2 ${ip} ${port} 2>/dev/null | tail -n 3`;
    // A Service: the conntrack entries from this pod to the ClusterIP before and after the request; the new one is its.
    const ct = (s: ServiceTarget) => `grep -F ${q(`src=${podIp} dst=${s.ip} `)} /proc/net/nf_conntrack`;
    return [
        ...targets.map((t) => `echo @${t.name}; ${get(`/from-${pod}`, t.ip, t.port)}`),
        ...services.map((s) => `echo @${s.name} before; ${ct(s)}; echo @${s.name} answer; ${get("/", s.ip, s.port)}; echo @${s.name} after; ${ct(s)}`),
    ].join("; ");
}

interface ServiceTarget { name: string; ip: string; port: number; endpoints: readonly string[] }

/**
 * Pure: the Services the matrix probes, as svc/NAME: each one's first TCP port at its ClusterIP. A Service with no
 * endpoint (its selector picks no running pod: `pulumi up` warned) or no TCP port has no column: nothing could answer.
 */
export function serviceTargets(out: AnyLabOutputs): ServiceTarget[] {
    return (out.services ?? []).flatMap((s) => {
        const port = tcpPort(s);
        return port && s.clusterIp && s.endpoints.length ? [{ name: `svc/${s.name}`, ip: s.clusterIp, port: port.port, endpoints: s.endpoints.map((e) => e.pod) }] : [];
    });
}

/**
 * Pure: one pod's request to a Service, from its probe's sections: reached when it was answered; who answered and what
 * source that pod saw, from the conntrack entry the request made (the one from the pod's IP not there before).
 */
export function servicePair(from: { name: string; ip: string }, s: ServiceTarget, parts: ReadonlyMap<string, string>, pods: readonly { name: string; ip: string }[]): Pair {
    const entry = newConntrack(parseConntrack(parts.get(`${s.name} before`) ?? ""), parseConntrack(parts.get(`${s.name} after`) ?? ""), from.ip, s.ip, s.port);
    const reached = /\S/.test(parts.get(`${s.name} answer`) ?? "");
    const chosen = entry ? (pods.find((p) => p.ip === entry.reply.src)?.name ?? entry.reply.src) : undefined;
    const seen = reached && entry ? entry.reply.dst : null;
    return {
        from: from.name, to: s.name, toIp: `${s.ip}:${s.port}`, reached, sourceSeen: seen, nat: seen ? seen !== from.ip : null, path: "service",
        ...(reached && chosen ? { endpoint: chosen } : {}), ...(reached && chosen && !s.endpoints.includes(chosen) ? { answeredBy: chosen } : {}),
    };
}

const stopScript = (pods: readonly string[]) =>
    `${pods.map((p) => `kill $(cat ${DIR}/${q(p)}.pid) 2>/dev/null; echo @${p}; cat ${DIR}/${q(p)}.log 2>/dev/null`).join("; ")}; rm -rf ${DIR}`;

export async function matrix(out: AnyLabOutputs, outsideLog: () => string): Promise<Pair[]> {
    const byNode = (n: string) => out.pods.filter((p) => p.node === n).map((p) => p.name);
    const container = (node: string) => out.nodes.find((n) => n.name === node)!.container;
    const nodes = out.nodes.filter((n) => byNode(n.name).length);
    const services = serviceTargets(out);
    await Promise.all(nodes.map((n) => onNode(n.container, serverScript(byNode(n.name), out.pods.map((p) => p.name)))));
    const answers = new Map<string, Map<string, string>>();
    const logs = new Map<string, Map<string, string>>();
    try {
        await Promise.all(out.pods.map(async (p) => {
            const targets = [
                ...out.pods.filter((t) => t.name !== p.name).map((t) => ({ name: t.name, ip: t.ip, port: PORT })),
                { name: out.outside.name, ip: out.outside.ip, port: 80 },
            ];
            answers.set(p.name, sections(await onNode(container(p.node), clientScript(p.name, p.ip, targets, services), 60_000)));
        }));
    } finally {
        await Promise.all(nodes.map(async (n) => {
            for (const [pod, text] of sections(await onNode(n.container, stopScript(byNode(n.name))))) { logs.set(pod, parseProbeLog(text)); }
        }));
    }
    const outsideSeen = parseProbeLog(outsideLog());
    const pairs: Pair[] = [];
    for (const p of out.pods) {
        for (const t of out.pods.filter((x) => x.name !== p.name)) {
            const body = answers.get(p.name)?.get(t.name) ?? "";
            const who = /podnet-probe (\S+)/.exec(body)?.[1];
            const seenBy = logs.get(who ?? t.name)?.get(p.name) ?? null;
            pairs.push({
                from: p.name, to: t.name, toIp: t.ip, reached: !!who, sourceSeen: who ? seenBy : null, nat: who && seenBy ? seenBy !== p.ip : null,
                path: p.node === t.node ? "same node" : "across nodes", ...(who && who !== t.name ? { answeredBy: who } : {}),
            });
        }
        const body = answers.get(p.name)?.get(out.outside.name) ?? "";
        const seen = outsideSeen.get(p.name) ?? null;
        pairs.push({ from: p.name, to: out.outside.name, toIp: out.outside.ip, reached: /\S/.test(body), sourceSeen: seen, nat: seen ? seen !== p.ip : null, path: "outside" });
        for (const s of services) { pairs.push(servicePair(p, s, answers.get(p.name) ?? new Map(), out.pods)); }
    }
    return pairs;
}

/**
 * The matrix on the live lab: the outside host's log read from the moment the probes start. In kubelet mode each pod
 * is probed at its live address (a new sandbox has a new one); in docker mode at the stack output's.
 */
export async function liveMatrix(out: AnyLabOutputs): Promise<Pair[]> {
    const live = (await withLiveIps(out)).out;
    const since = new Date().toISOString();
    return matrix(live, () => execFileSync("sh", ["-c", `docker logs --since ${since} ${q(out.outside.container)} 2>&1`], { encoding: "utf8" }));
}

/** Pods probed at another address than the stack output's (kubelet mode, a new sandbox): one note each. Pure. */
export function probedIpNotes(pairs: readonly Pair[], out: AnyLabOutputs): string[] {
    return out.pods.flatMap((p) => {
        const probed = pairs.find((x) => x.to === p.name && x.toIp)?.toIp;
        return probed && probed !== p.ip ? [newIpNote(p, probed)] : [];
    });
}

/** The matrix as a table for people. */
export function renderMatrix(pairs: readonly Pair[], out: AnyLabOutputs): string {
    const ipOf = (p: Pair) => p.toIp ?? out.pods.find((x) => x.name === p.to)?.ip ?? out.outside.ip;
    const reached = (p: Pair) => !p.reached ? "NO" : p.answeredBy ? `WRONG POD (${p.answeredBy})`
        : p.path === "service" ? `yes, by ${p.endpoint ?? "? (no conntrack entry)"}${p.endpoint === p.from ? " (itself: hairpin)" : ""}` : "yes";
    const rows = pairs.map((p) => [
        p.from, `${p.to} (${ipOf(p)})`, reached(p),
        p.sourceSeen ?? "-", p.nat === null ? "-" : p.nat ? "yes" : "no", p.path,
        pairHolds(p) ? "ok" : "UNEXPECTED",
    ]);
    return table(["FROM", "TO", "REACHED", "SOURCE SEEN", "NAT", "PATH", "MODEL"], rows);
}

export function table(head: string[], rows: string[][]): string {
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const line = (r: string[]) => r.map((c, i) => (c ?? "").padEnd(w[i])).join("  ").trimEnd();
    return [line(head), ...rows.map(line)].join("\n");
}
