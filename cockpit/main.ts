// `npm run podnet -- <verb>`: the learner's cockpit. It reads the lab's stack outputs and looks at the live
// nodes and pods from outside; only `break` and `fix` change anything. Tables for people, --json for scripts,
// and a non-zero exit when what a verb checks does not hold.
import * as fs from "node:fs";
import * as path from "node:path";
import { renderDiagram } from "../plan/diagram";
import { projectRoot } from "../plan/load";
import { AnyLabOutputs } from "../plan/outputs";
import { RUNTIMES } from "../plan/runtimes";
import { breakPiece, fix } from "./breakfix";
import { cniView, renderCni } from "./cni";
import { CockpitError, loadOutputs } from "./live";
import { liveMatrix, modelHolds, Pair, probedIpNotes, renderMatrix, table } from "./matrix";
import { serve } from "./serve";
import { status } from "./status";
import { renderSvg } from "./svg";
import { parseServiceTarget, traceService } from "./service-trace";
import { renderTrace, trace, traceJson } from "./trace";

const DEFAULT_PORT = 8080;
const USAGE = `usage: npm run podnet -- <verb> [--json] [--outputs FILE] [--stack NAME]
  status                       declared vs live: nodes, bridges, routes, pods; every difference marked
  matrix                       every pod to every pod, to the outside host and (cluster mode) to each Service's ClusterIP:
                               reached (a Service: by which pod), source seen, NAT, path
  trace SRC DST                one packet's path, hop by hop (DST: a pod or the outside host)
  trace SRC svc/NAME[@NODE]    cluster mode: a request to a Service (from a pod: its ClusterIP; from the outside host:
                               its NodePort on NODE, node1 by default): the rules it matched, the DNAT, conntrack, the path
  diagram [--svg FILE]         the lab's picture (the SVG also draws the last matrix)
  cni POD                      the pod's last CNI ADD: the node's conflist, each plugin's CNI_* variables, stdin, result
  break route NODE PEER | break masquerade NODE | break bridge NODE
                               take one piece away on a live node (its agent is paused first)
  fix                          resume every node agent; wait until status is clean
  serve [--port N]             the lab as a live page on http://127.0.0.1:N/ (default ${DEFAULT_PORT}): picture, status, matrix,
                               trace, break and fix; prints the address with its per-run token`;

interface Args { verb: string; rest: string[]; json: boolean; outputs?: string; stack?: string; svg?: string; port?: number; }

export function parseArgs(argv: readonly string[]): Args {
    const a: Args = { verb: "", rest: [], json: false };
    for (let i = 0; i < argv.length; i++) {
        const w = argv[i];
        const value = () => { const v = argv[++i]; if (!v) { throw new CockpitError(`${w} needs a value\n${USAGE}`); } return v; };
        if (w === "--json") { a.json = true; } else if (w === "--outputs") { a.outputs = value(); } else if (w === "--stack") { a.stack = value(); }
        else if (w === "--svg") { a.svg = value(); }
        else if (w === "--port") {
            const v = value();
            if (!/^\d+$/.test(v) || Number(v) > 65535) { throw new CockpitError(`--port ${v}: give a port number, 0 to 65535 (0: any free port)`); }
            a.port = Number(v);
        } else if (w.startsWith("--")) { throw new CockpitError(`unknown option ${w}\n${USAGE}`); }
        else if (!a.verb) { a.verb = w; } else { a.rest.push(w); }
    }
    return a;
}

const matrixFile = (out: AnyLabOutputs) => path.join(projectRoot(), ".lab", "cockpit", `${out.lan.network}.matrix.json`);

async function run(a: Args): Promise<number> {
    const print = (human: string, data: unknown) => console.log(a.json ? JSON.stringify(data, null, 2) : human);
    if (!a.verb || a.verb === "help") { console.log(USAGE); return a.verb ? 0 : 2; }
    const out = loadOutputs(a.outputs, a.stack);
    switch (a.verb) {
        case "status": {
            const s = await status(out);
            const nodes = table(["NODE", "CONTAINER", "RUNNING", "BRIDGE", "ROUTES", "AGENT"], s.nodes.map((n) => [
                n.name, n.container, n.running ? "yes" : "NO", `${n.bridge.name} ${n.bridge.address ?? "-"} ${n.bridge.up ? "up" : "DOWN"}`,
                `${n.routes.filter((r) => r.present).length}/${n.routes.length}`, n.agent,
            ]));
            // Kubelet mode: the stack output has each pod's IP at creation; a new sandbox gets a new one (a note, not a difference).
            const declared = s.pods.some((p) => RUNTIMES[p.runtime].newSandboxNewIp) ? "IP (at creation)" : "IP (declared)";
            // Cluster mode: what the API server says now (kubelet reports each new sandbox's IP there).
            const api = s.pods.some((p) => p.apiIp !== undefined);
            const pods = table(["POD", "NODE", declared, ...(api ? ["IP (API)"] : []), "IP (live)", "SANDBOX", "CONTAINERS", "VETH"], s.pods.map((p) => [
                p.name, p.node, p.ip, ...(api ? [p.apiIp ?? "-"] : []), p.liveIp ?? "-", p.sandboxState, p.containers.map((c) => `${c.name} ${c.state}`).join(", "), p.veth ?? "-",
            ]));
            const built = s.pods.map((p) => `  ${p.name}: ${p.builtBy}`).join("\n");
            const notes = s.notes.length ? `\n\nnotes (not differences):\n${s.notes.map((n) => `  - ${n}`).join("\n")}` : "";
            const diffs = s.differences.length ? ["differences:", ...s.differences.map((d) => `  ! ${d}`)].join("\n") : "no differences: the lab is as declared";
            print(`${nodes}\n\n${pods}\n\n${built}${notes}\n\n${diffs}`, s);
            return s.differences.length ? 1 : 0;
        }
        case "matrix": {
            const pairs = await liveMatrix(out);
            fs.mkdirSync(path.dirname(matrixFile(out)), { recursive: true });
            fs.writeFileSync(matrixFile(out), JSON.stringify({ pairs }, null, 2));
            const holds = modelHolds(pairs);
            const notes = probedIpNotes(pairs, out);
            const services = pairs.some((p) => p.path === "service")
                ? ", and reaches each Service through a pod it selects, which sees the client's own address (masqueraded only when it answers itself: hairpin)" : "";
            print(`${renderMatrix(pairs, out)}\n\n${notes.map((n) => `note: ${n}\n`).join("")}${holds ? `the model holds: every pod reaches every pod with its own address, and leaves the cluster masqueraded${services}`
                : "the model does NOT hold: see the UNEXPECTED rows"}`, { pairs, notes });
            return holds ? 0 : 1;
        }
        case "trace": {
            const [src, dst] = a.rest;
            if (!src || !dst) { throw new CockpitError(`trace needs SRC and DST\n${USAGE}`); }
            const svc = parseServiceTarget(dst);
            const t = svc ? await traceService(out, src, svc.name, svc.via) : await trace(out, src, dst);
            print(renderTrace(t), traceJson(t));
            return 0;
        }
        case "diagram": {
            const last = fs.existsSync(matrixFile(out)) ? (JSON.parse(fs.readFileSync(matrixFile(out), "utf8")) as { pairs: Pair[] }).pairs : undefined;
            if (a.svg) {
                fs.writeFileSync(a.svg, renderSvg(out, last));
                console.log(`wrote ${a.svg}${last ? " (with the last matrix)" : " (no matrix yet: run matrix first to draw it)"}`);
                return 0;
            }
            const ips = Object.fromEntries(out.pods.map((p) => [p.name, p.ip]));
            const input = { ...out, pending: out.pendingPods ?? [], nodes: out.nodes.map((n) => ({ ...n, pods: out.pods.filter((p) => p.node === n.name).map((p) => p.name) })) };
            print(renderDiagram(input, ips), out);
            return 0;
        }
        case "cni": {
            const [pod] = a.rest;
            if (!pod) { throw new CockpitError(`cni needs a POD\n${USAGE}`); }
            const v = await cniView(out, pod);
            print(renderCni(v), v);
            return v.calls.length && v.calls.every((c) => c.exit === 0) ? 0 : 1;
        }
        case "break": {
            const [what, node, peer] = a.rest;
            for (const line of await breakPiece(out, what ?? "", node, peer)) { console.log(line); }
            return 0;
        }
        case "fix": {
            const lines = await fix(out);
            for (const line of lines) { console.log(line); }
            return lines.length > 1 ? 1 : 0;
        }
        case "serve": {
            const s = await serve(out, { port: a.port ?? DEFAULT_PORT });
            console.log(`podnet serve: the lab ${out.lan.network} live on ${s.url} (127.0.0.1 only)`);
            console.log(`podnet serve: open ${s.url}#token=${s.token}`);
            console.log(`podnet serve: break and fix need this run's token: ${s.token} (header x-podnet-token); Ctrl-C stops`);
            await new Promise<void>((resolve) => { process.once("SIGINT", resolve); process.once("SIGTERM", resolve); });
            await s.close();
            return 0;
        }
        default:
            throw new CockpitError(`unknown verb '${a.verb}'\n${USAGE}`);
    }
}

/** Runs one verb and exits with its code (bin/podnet.js calls this after its build check). */
export function cli(argv: readonly string[]): void {
    (async () => run(parseArgs(argv)))().then((code) => process.exit(code), (e) => {
        console.error(e instanceof CockpitError ? `podnet: ${e.message}` : `podnet: ${(e as Error).stack ?? e}`);
        process.exit(2);
    });
}

if (require.main === module) { cli(process.argv.slice(2)); }
