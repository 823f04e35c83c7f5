// `podnet serve` on fixed outputs with stand-in verbs: the page and its files, the JSON endpoints, the refusals (a
// foreign Host, a break without the token or from another origin), 4xx with one plain line for bad requests, and one
// matrix run at a time however many requests come.
import * as assert from "node:assert/strict";
import * as http from "node:http";
import { after, before, describe, it } from "node:test";
import { Pair } from "../cockpit/matrix";
import { checkOrigin, parseBreak, serve, Server, singleFlight, Verbs } from "../cockpit/serve";
import { Status } from "../cockpit/status";
import { labOutputs } from "./lab-outputs";

const out = labOutputs(3);

function request(s: Server, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ code: number; type: string; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port: s.port, method, path, headers: { host: `127.0.0.1:${s.port}`, ...headers } }, (res) => {
            let text = "";
            res.on("data", (c: Buffer) => { text += c.toString(); });
            res.on("end", () => resolve({ code: res.statusCode ?? 0, type: String(res.headers["content-type"]), body: text }));
        });
        req.on("error", reject);
        req.end(body);
    });
}

describe("podnet serve", () => {
    const calls: string[] = [];
    let release: () => void = () => undefined;
    const verbs: Verbs = {
        status: async () => { calls.push("status"); return { nodes: [], pods: [], differences: [], notes: [] } as Status; },
        matrix: async () => { calls.push("matrix"); await new Promise<void>((r) => { release = r; }); return [{ from: "web-1", to: "web-2", reached: true, sourceSeen: "10.244.1.3", nat: false, path: "across nodes" }] as Pair[]; },
        trace: async (_o, from, to) => { calls.push(`trace ${from} ${to}`); return { from: out.pods[1], to: out.pods[2], hops: [{ at: "pod web-1", what: "leaves", detail: "x" }], verdict: "across nodes" }; },
        traceService: async (_o, from, service, via) => {
            calls.push(`trace ${from} svc/${service}${via ? `@${via}` : ""}`);
            return { from: out.pods[0], to: { name: `svc/${service}`, ip: "10.96.0.50:80" }, hops: [{ at: "node1", what: "DNAT", detail: "-j DNAT" }], verdict: "Service web" };
        },
        breakPiece: async (_o, what, node, peer) => { calls.push(`break ${what} ${node} ${peer ?? ""}`.trim()); return ["broken"]; },
        fix: async () => { calls.push("fix"); return ["clean"]; },
        // A verb that fails unexpectedly must not show its stack.
    };
    let s: Server;
    before(async () => { s = await serve(out, { port: 0, token: "t0k3n", verbs }); });
    after(async () => { await s.close(); });
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
        request(s, "POST", path, { "content-type": "application/json", "x-podnet-token": "t0k3n", origin: `http://127.0.0.1:${s.port}`, ...headers }, body);

    it("listens on 127.0.0.1 and serves the page: one HTML file, one script, one stylesheet", async () => {
        assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
        const page = await request(s, "GET", "/");
        assert.equal(page.code, 200);
        assert.match(page.body, /<script src="\/app\.js"><\/script>/);
        assert.doesNotMatch(page.body, /https?:\/\/(?!127\.0\.0\.1)[a-z]/i, "no CDN, no outside address");
        assert.match((await request(s, "GET", "/app.js")).type, /javascript/);
        assert.match((await request(s, "GET", "/app.css")).type, /text\/css/);
    });

    it("JSON endpoints: diagram (the outputs, the model line, who built each pod), status, matrix, trace", async () => {
        const d = JSON.parse((await request(s, "GET", "/api/diagram")).body) as {
            nodes: unknown[]; podNetworkLine: string; podRuntimeLine: string; cniPlugin: string; pods: { runtime: string; builtBy: string }[];
        };
        assert.equal(d.nodes.length, 3);
        assert.equal(d.podRuntimeLine, "docker (the lab's steps)");
        assert.deepEqual(d.pods.map((p) => [p.runtime, p.builtBy]), out.pods.map(() => ["docker", "built by the lab's steps (docker)"]), "who built each pod, said by the server");
        assert.match(d.podNetworkLine, /^pod network: routed/);
        assert.equal(d.cniPlugin, "podnet");
        assert.deepEqual(JSON.parse((await request(s, "GET", "/api/status")).body), { nodes: [], pods: [], differences: [], notes: [] });
        const t = JSON.parse((await request(s, "GET", "/api/trace?from=web-1&to=outside")).body) as { hops: unknown[]; verdict: string };
        assert.equal(t.verdict, "across nodes");
        assert.ok(calls.includes("trace web-1 outside"));
    });

    it("the matrix: requests that come while one runs share it (no second round of probes)", async () => {
        const before = calls.filter((c) => c === "matrix").length;
        const three = [request(s, "GET", "/api/matrix"), request(s, "GET", "/api/matrix"), request(s, "GET", "/api/matrix")];
        await new Promise((r) => setTimeout(r, 100));
        release();
        const answers = await Promise.all(three);
        assert.deepEqual(answers.map((a) => a.code), [200, 200, 200]);
        assert.equal(calls.filter((c) => c === "matrix").length - before, 1);
        // Each pair with the model's verdict on it, so the page does not judge by rules of its own.
        assert.deepEqual((JSON.parse(answers[0].body) as { pairs: { holds: boolean }[] }).pairs.map((p) => p.holds), [true]);
    });

    it("break and fix with the token from the page's origin; refused without the token, with a wrong one, or from another origin", async () => {
        assert.equal((await post("/api/break", JSON.stringify({ what: "route", node: "node1", peer: "node2" }))).code, 200);
        assert.equal(calls.at(-1), "break route node1 node2");
        const n = calls.length;
        const noToken = await post("/api/break", JSON.stringify({ what: "bridge", node: "node1" }), { "x-podnet-token": "" });
        assert.equal(noToken.code, 403);
        assert.match(noToken.body, /needs the token/);
        assert.equal((await post("/api/break", JSON.stringify({ what: "bridge", node: "node1" }), { "x-podnet-token": "t0k3nX" })).code, 403);
        const foreign = await post("/api/fix", "{}", { origin: "http://evil.example" });
        assert.equal(foreign.code, 403);
        assert.match(foreign.body, /from http:\/\/evil\.example may not change the lab/);
        assert.equal((await post("/api/fix", "{}", { "sec-fetch-site": "cross-site" })).code, 403);
        assert.equal(calls.length, n, "nothing refused reached a verb");
        const fixed = JSON.parse((await post("/api/fix", "{}")).body) as { lines: string[]; clean: boolean };
        assert.deepEqual(fixed, { lines: ["clean"], clean: true });
    });

    it("bad requests: 4xx and one plain line, never a stack trace", async () => {
        const cases: [string, string, string | undefined, number, RegExp][] = [
            ["GET", "/api/trace?from=nope&to=web-2", undefined, 404, /^no pod 'nope'; pods: pod-net-test, web-1/],
            ["GET", "/api/trace?from=web-1&to=nope", undefined, 404, /^no pod, outside host or Service 'nope'; pods: pod-net-test/],
            ["GET", "/api/trace?from=web-1&to=svc/web", undefined, 404, /^no Service 'web': this lab has no Services \(they run in cluster mode\)/],
            ["GET", "/api/trace?from=outside&to=web-2", undefined, 404, /^no pod 'outside'; pods: /],
            ["GET", "/api/nope", undefined, 404, /^no endpoint \/api\/nope/],
            ["GET", "/etc/passwd", undefined, 404, /^no page/],
            ["GET", "/api/break", undefined, 405, /use POST/],
            ["POST", "/api/status", "{}", 405, /use GET/],
            ["POST", "/api/break", "{not json", 400, /^the body is not JSON/],
            ["POST", "/api/break", JSON.stringify({ what: "everything", node: "node1" }), 400, /^'what' must be one of route, masquerade, bridge/],
            ["POST", "/api/break", JSON.stringify({ what: "route", node: "node9" }), 404, /^no node node9/],
            ["POST", "/api/break", JSON.stringify({ what: "route", node: "node1", peer: "node1" }), 404, /needs a peer of node1: node2, node3/],
            ["POST", "/api/break", "x".repeat(5000), 413, /over 4096 bytes/],
        ];
        for (const [method, path, body, code, msg] of cases) {
            const r = method === "POST" ? await post(path, body ?? "") : await request(s, method, path);
            assert.equal(r.code, code, `${method} ${path}: ${r.body}`);
            assert.match(r.body, msg);
            assert.match(r.type, /^text\/plain/);
            assert.doesNotMatch(r.body, /\n\s+at /, "no stack trace");
            assert.equal(r.body.trim().split("\n").length, 1, "one line");
        }
    });

    it("answers only when addressed as 127.0.0.1 or localhost (DNS rebinding)", async () => {
        const r = await request(s, "GET", "/api/status", { host: "attacker.example:80" });
        assert.equal(r.code, 421);
        assert.equal((await request(s, "GET", "/api/diagram", { host: `localhost:${s.port}` })).code, 200);
    });

    it("an unexpected failure: 500 with its first line only", async () => {
        const broken = await serve(out, { port: 0, verbs: { ...verbs, status: async () => { throw new Error("boom\nsecond line"); } } });
        const errors: unknown[] = [];
        const original = console.error;
        console.error = (...a: unknown[]) => { errors.push(a); };
        try {
            const r = await request(broken, "GET", "/api/status");
            assert.equal(r.code, 500);
            assert.equal(r.body, "internal error: boom\n");
        } finally { console.error = original; await broken.close(); }
        assert.equal(errors.length, 1, "the stack goes to the server's own log");
    });
});

describe("serve's pure checks", () => {
    it("checkOrigin: reads need the right Host; changes also a same-origin Origin (or none, as from curl)", () => {
        assert.doesNotThrow(() => checkOrigin({ host: "127.0.0.1:8080" }, 8080, true));
        assert.doesNotThrow(() => checkOrigin({ host: "localhost:8080", origin: "http://localhost:8080", "sec-fetch-site": "same-origin" }, 8080, true));
        assert.throws(() => checkOrigin({ host: "127.0.0.1:8081" }, 8080, false), /answers only http:\/\/127\.0\.0\.1:8080/);
        assert.throws(() => checkOrigin({ host: "127.0.0.1:8080", origin: "null" }, 8080, true), /from null/);
        assert.doesNotThrow(() => checkOrigin({ host: "127.0.0.1:8080", origin: "http://evil.example" }, 8080, false), "reads are not refused by Origin");
    });

    it("parseBreak: masquerade and bridge take no peer", () => {
        assert.deepEqual(parseBreak(JSON.stringify({ what: "masquerade", node: "node2", peer: "node1" }), out), { what: "masquerade", node: "node2" });
        assert.throws(() => parseBreak("[]", out), /'what' must be/);
    });

    it("singleFlight: one run per key at a time, a new one after it ends", async () => {
        const once = singleFlight<number>();
        let runs = 0;
        const run = async () => { runs++; await new Promise((r) => setTimeout(r, 10)); return runs; };
        assert.deepEqual(await Promise.all([once("m", run), once("m", run), once("t", run)]), [2, 2, 2]);
        assert.equal(await once("m", run), 3);
    });
});

describe("podnet serve: a trace to a Service (cluster mode)", () => {
    const withWeb = {
        ...out, podRuntime: "cluster" as const,
        services: [{ name: "web", type: "NodePort" as const, clusterIp: "10.96.0.50", ports: [{ name: "http", port: 80, targetPort: 80, protocol: "TCP" as const, nodePort: 30080 }], selector: "app=web", endpoints: [{ pod: "web-1", node: "node1", ip: "10.244.1.3" }] }],
    };
    const calls: string[] = [];
    let s: Server;
    const none = async () => { throw new Error("not this verb"); };
    before(async () => {
        s = await serve(withWeb, { port: 0, token: "t", verbs: {
            status: none, matrix: none, trace: none, breakPiece: none, fix: none,
            traceService: async (_o, from, service, via) => {
                calls.push(`${from} svc/${service}${via ? `@${via}` : ""}`);
                return { from: withWeb.pods[0], to: { name: `svc/${service}`, ip: "10.96.0.50:80" }, hops: [{ at: "node1", what: "DNAT", detail: "-j DNAT" }], verdict: "Service web", service, endpoint: "web-1" };
            },
        } });
    });
    after(async () => s.close());

    it("svc/NAME from a pod and svc/NAME@NODE from the outside host reach traceService; an unknown Service or node is refused in one line", async () => {
        const t = JSON.parse((await request(s, "GET", "/api/trace?from=pod-net-test&to=svc%2Fweb")).body) as { to: string; hops: { what: string }[]; service: string; endpoint: string };
        assert.deepEqual([t.to, t.hops[0].what, t.service, t.endpoint], ["svc/web", "DNAT", "web", "web-1"], "the Service and the pod chosen, for the page to mark");
        assert.equal((await request(s, "GET", "/api/trace?from=outside&to=svc%2Fweb%40node2")).code, 200);
        assert.deepEqual(calls, ["pod-net-test svc/web", "outside svc/web@node2"]);
        for (const [path, code, msg] of [
            ["/api/trace?from=pod-net-test&to=svc%2Fnope", 404, /^no Service 'nope'; Services: svc\/web$/],
            ["/api/trace?from=outside&to=svc%2Fweb%40node9", 404, /^no node 'node9' for svc\/web@NODE; nodes: node1, node2, node3$/],
            ["/api/trace?from=nope&to=svc%2Fweb", 404, /^no pod 'nope'; pods: .*, outside host: outside$/],
            ["/api/trace?from=pod-net-test&to=svc%2Fweb%40node2", 400, /^svc\/web@node2: @NODE is for the outside host's request to the NodePort through that node; from pod pod-net-test, trace svc\/web \(its ClusterIP\)$/],
        ] as const) {
            const r = await request(s, "GET", path);
            assert.equal(r.code, code, `${path}: ${r.body}`);
            assert.match(r.body.trim(), msg);
        }
        assert.equal(calls.length, 2, "nothing refused reached a verb");
    });
});
