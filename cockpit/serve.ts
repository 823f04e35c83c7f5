// `serve [--port N]`: the lab as a live page. A small HTTP server on 127.0.0.1 that serves the page (cockpit/web/: one
// HTML file, one script, one stylesheet, no build step) and the cockpit's own verbs as JSON: the page draws what
// `diagram`, `status`, `matrix` and `trace` return, and `break` and `fix` change the lab. Modelled on containerlab's
// `graph`: one small server, static assets, the topology as JSON.
//
// Security: it listens on 127.0.0.1 only and answers only requests addressed to 127.0.0.1 or localhost (no DNS
// rebinding); a request that changes the lab needs the per-run token (header X-Podnet-Token) and, from a browser,
// this page's own origin. A bad request gets a 4xx and one plain line, never a stack trace.
import { randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { podNetworkLine } from "../plan/diagram";
import { projectRoot } from "../plan/load";
import { AnyLabOutputs } from "../plan/outputs";
import { breakPiece, fix } from "./breakfix";
import { CockpitError } from "./live";
import { liveMatrix, Pair, pairHolds } from "./matrix";
import { podRuntimeLine, podsWithBuiltBy } from "./runtime";
import { Status, status } from "./status";
import { parseServiceTarget, traceService, viaProblem } from "./service-trace";
import { trace, traceJson, TraceView } from "./trace";

/** The verbs the server answers with: the cockpit's own, or stand-ins in the unit test. */
export interface Verbs {
    status(out: AnyLabOutputs): Promise<Status>;
    matrix(out: AnyLabOutputs): Promise<Pair[]>;
    trace(out: AnyLabOutputs, from: string, to: string): Promise<TraceView>;
    /** A request to a Service: from a pod to its ClusterIP, or from the outside host to its NodePort on `via`. */
    traceService(out: AnyLabOutputs, from: string, service: string, via: string | undefined): Promise<TraceView>;
    breakPiece(out: AnyLabOutputs, what: string, node: string | undefined, peer: string | undefined): Promise<string[]>;
    fix(out: AnyLabOutputs): Promise<string[]>;
}
export const LIVE_VERBS: Verbs = { status, matrix: liveMatrix, trace, traceService, breakPiece, fix };

export const TOKEN_HEADER = "x-podnet-token";
export const PIECES = ["route", "masquerade", "bridge"] as const;
const WEB = path.join(projectRoot(), "cockpit", "web");
const FILES: Record<string, { file: string; type: string }> = {
    "/": { file: "index.html", type: "text/html; charset=utf-8" },
    "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
    "/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
};

/** An answer with a status code and one plain line. */
export class HttpError extends Error {
    constructor(public readonly code: number, message: string) { super(message); }
}

/** Where a request may come from: addressed to this server by name (Host), and, when a browser says, from its page. Pure. */
export function checkOrigin(headers: http.IncomingHttpHeaders, port: number, mutating: boolean): void {
    const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
    if (!hosts.includes(headers.host ?? "")) { throw new HttpError(421, `this server answers only http://127.0.0.1:${port}/ (Host was ${headers.host ?? "missing"})`); }
    if (!mutating) { return; }
    const origin = headers.origin;
    if (origin !== undefined && !hosts.map((h) => `http://${h}`).includes(origin)) { throw new HttpError(403, `refused: a request from ${origin} may not change the lab`); }
    const site = headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin" && site !== "none") { throw new HttpError(403, `refused: a ${site} request may not change the lab`); }
}

/** The per-run token, compared in constant time. Pure. */
export function checkToken(headers: http.IncomingHttpHeaders, token: string): void {
    const given = headers[TOKEN_HEADER];
    const a = Buffer.from(typeof given === "string" ? given : ""), b = Buffer.from(token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
        throw new HttpError(403, `refused: changing the lab needs the token 'podnet serve' printed, in the ${TOKEN_HEADER} header`);
    }
}

/** A break request's body: {what, node, peer?}, checked against the lab's nodes. Pure. */
export function parseBreak(body: string, out: AnyLabOutputs): { what: string; node: string; peer?: string } {
    let v: unknown;
    try { v = JSON.parse(body); } catch { throw new HttpError(400, "the body is not JSON: send {\"what\": \"route\", \"node\": \"node1\", \"peer\": \"node2\"}"); }
    const o = (v && typeof v === "object" ? v : {}) as Record<string, unknown>;
    const what = o.what, node = o.node, peer = o.peer;
    if (typeof what !== "string" || !(PIECES as readonly string[]).includes(what)) { throw new HttpError(400, `'what' must be one of ${PIECES.join(", ")}`); }
    if (typeof node !== "string" || !out.nodes.some((n) => n.name === node)) { throw new HttpError(404, `no node ${String(node)}; nodes: ${out.nodes.map((n) => n.name).join(", ")}`); }
    if (what === "route" && (typeof peer !== "string" || peer === node || !out.nodes.some((n) => n.name === peer))) {
        throw new HttpError(404, `break route needs a peer of ${node}: ${out.nodes.filter((n) => n.name !== node).map((n) => n.name).join(", ")}`);
    }
    return { what, node, ...(typeof peer === "string" && what === "route" ? { peer } : {}) };
}

/** Pure: `svc/NAME[@NODE]`, checked against the lab's Services and nodes; undefined when `to` names no Service. */
export function checkServiceTarget(to: string, out: AnyLabOutputs): { name: string; via?: string } | undefined {
    const t = parseServiceTarget(to);
    if (!t) { return undefined; }
    const services = out.services ?? [];
    if (!services.some((v) => v.name === t.name)) {
        throw new HttpError(404, services.length ? `no Service '${t.name}'; Services: ${services.map((v) => `svc/${v.name}`).join(", ")}` : `no Service '${t.name}': this lab has no Services (they run in cluster mode)`);
    }
    if (t.via !== undefined && !out.nodes.some((n) => n.name === t.via)) { throw new HttpError(404, `no node '${t.via}' for svc/${t.name}@NODE; nodes: ${out.nodes.map((n) => n.name).join(", ")}`); }
    return t;
}

/** One run at a time per key: a request that comes while one runs gets that run's answer (probes never pile up). */
export function singleFlight<T>(): (key: string, run: () => Promise<T>) => Promise<T> {
    const running = new Map<string, Promise<T>>();
    return (key, run) => {
        const now = running.get(key);
        if (now) { return now; }
        const p = run().finally(() => running.delete(key));
        running.set(key, p);
        return p;
    };
}

function readBody(req: http.IncomingMessage, limit = 4096): Promise<string> {
    return new Promise((resolve, reject) => {
        let size = 0;
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => { size += c.length; if (size <= limit) { chunks.push(c); } });
        req.on("end", () => (size > limit ? reject(new HttpError(413, `the body is over ${limit} bytes`)) : resolve(Buffer.concat(chunks).toString("utf8"))));
        req.on("error", reject);
    });
}

export interface Server { readonly url: string; readonly token: string; readonly port: number; close(): Promise<void>; }

/** Starts the server on 127.0.0.1 (port 0: any free port). */
export function serve(out: AnyLabOutputs, opts: { port: number; token?: string; verbs?: Verbs }): Promise<Server> {
    const verbs = opts.verbs ?? LIVE_VERBS;
    const token = opts.token ?? randomBytes(16).toString("hex");
    const once = singleFlight<unknown>();
    let mutating = Promise.resolve<unknown>(undefined);
    /** Break and fix run one after another, never two at once. */
    const serial = <T>(run: () => Promise<T>): Promise<T> => { const p = mutating.then(run, run); mutating = p.catch(() => undefined); return p; };
    let port = opts.port;

    const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        const send = (code: number, type: string, body: string | Buffer) => {
            res.writeHead(code, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
                "content-security-policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'" });
            res.end(body);
        };
        const json = (v: unknown) => send(200, "application/json; charset=utf-8", JSON.stringify(v, null, 1));
        const method = req.method ?? "GET";
        const isApi = url.pathname.startsWith("/api/");
        const post = ["/api/break", "/api/fix"].includes(url.pathname);
        checkOrigin(req.headers, port, post);
        if (!isApi) {
            const f = FILES[url.pathname];
            if (!f) { throw new HttpError(404, `no page ${url.pathname}; open /`); }
            if (method !== "GET" && method !== "HEAD") { throw new HttpError(405, `${method} ${url.pathname}: use GET`); }
            return send(200, f.type, fs.readFileSync(path.join(WEB, f.file)));
        }
        if (post !== (method === "POST") || (method !== "GET" && method !== "POST")) {
            throw new HttpError(405, `${method} ${url.pathname}: use ${post ? "POST" : "GET"}`);
        }
        if (post) { checkToken(req.headers, token); }
        switch (url.pathname) {
            // Who built each pod, and the lab's runtime in a line, are the server's to say: the page draws them as they come.
            case "/api/diagram": return json({ ...out, pods: podsWithBuiltBy(out), podNetworkLine: podNetworkLine(out), podRuntimeLine: podRuntimeLine(out) });
            case "/api/status": return json(await once("status", () => verbs.status(out)));
            // Each pair with the model's verdict on it (pairHolds), so the page need not know the model's rules.
            case "/api/matrix": return json({ pairs: ((await once("matrix", () => verbs.matrix(out))) as Pair[]).map((p) => ({ ...p, holds: pairHolds(p) })) });
            case "/api/trace": {
                const from = url.searchParams.get("from") ?? "", to = url.searchParams.get("to") ?? "";
                const svc = checkServiceTarget(to, out);
                // To a Service, the outside host may ask too (its NodePort); to a pod, only a pod.
                if (!out.pods.some((p) => p.name === from) && !(svc && from === out.outside.name)) {
                    throw new HttpError(404, `no pod '${from}'; pods: ${out.pods.map((p) => p.name).join(", ")}${svc ? `, outside host: ${out.outside.name}` : ""}`);
                }
                const problem = svc && viaProblem(from, out.outside.name, svc);
                if (problem) { throw new HttpError(400, problem); }
                if (!svc && !out.pods.some((p) => p.name === to) && to !== out.outside.name) {
                    const services = (out.services ?? []).map((v) => `svc/${v.name}`);
                    throw new HttpError(404, `no pod, outside host or Service '${to}'; pods: ${out.pods.map((p) => p.name).join(", ")}, outside host: ${out.outside.name}${services.length ? `, Services: ${services.join(", ")}` : ""}`);
                }
                const t = await once(`trace ${from} ${to}`, () => (svc ? verbs.traceService(out, from, svc.name, svc.via) : verbs.trace(out, from, to))) as TraceView;
                return json(traceJson(t));
            }
            case "/api/break": {
                const b = parseBreak(await readBody(req), out);
                return json({ lines: await serial(() => verbs.breakPiece(out, b.what, b.node, b.peer)) });
            }
            case "/api/fix": {
                await readBody(req);
                const lines = await serial(() => verbs.fix(out));
                return json({ lines, clean: lines.length === 1 });
            }
            default: throw new HttpError(404, `no endpoint ${url.pathname}; endpoints: /api/diagram, /api/status, /api/matrix, /api/trace?from=POD&to=POD (or to=svc/NAME[@NODE]), POST /api/break, POST /api/fix`);
        }
    };

    const server = http.createServer((req, res) => {
        handle(req, res).catch((e: unknown) => {
            const code = e instanceof HttpError ? e.code : e instanceof CockpitError ? 400 : 500;
            const msg = e instanceof HttpError || e instanceof CockpitError ? e.message : `internal error: ${String((e as Error)?.message ?? e).split("\n")[0]}`;
            if (code === 500) { console.error(`podnet serve: ${req.method} ${req.url}: ${(e as Error)?.stack ?? e}`); }
            if (!res.headersSent) { res.writeHead(code, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" }); }
            res.end(`${msg}\n`);
        });
    });
    return new Promise((resolve, reject) => {
        server.once("error", (e: NodeJS.ErrnoException) => reject(new CockpitError(`serve: cannot listen on 127.0.0.1:${opts.port}: ${e.code ?? e.message}`)));
        server.listen(opts.port, "127.0.0.1", () => {
            port = (server.address() as { port: number }).port;
            resolve({ url: `http://127.0.0.1:${port}/`, token, port, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
        });
    });
}
