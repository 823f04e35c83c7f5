/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// `podnet serve` in a real browser (Debian's chromium, headless, driven by puppeteer-core) on the running e2e lab:
// the page shows every pod with its live IP; a cross-node trace highlights its hops on the picture; `break route`
// from the page turns the matrix red and the trace ends "lost"; `fix` brings it all back; a break without the token
// is refused. Screenshots go to docs/ (the README shows them). Also: the SVG diagram's real text widths at 3, 6 and
// 10 nodes, measured by the browser, fit their boxes.
import * as assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "puppeteer-core";
import puppeteer from "puppeteer-core";
import { renderSvg } from "../../cockpit/svg";
import { projectRoot } from "../../plan/load";
import { LabOutputs } from "../../plan/outputs";
import { RUNTIMES } from "../../plan/runtimes";
import { labOutputs } from "../lab-outputs";

const root = projectRoot();
const OUTPUTS = process.env.PODNET_OUTPUTS ?? path.join(root, ".lab", "e2e", "outputs.json");
const CHROMIUM = process.env.PODNET_CHROMIUM ?? "/usr/bin/chromium";
const DOCS = path.join(root, "docs");
const log = (line: string) => process.stdout.write(`# web: ${line}\n`);

async function launch(): Promise<Browser> {
    assert.ok(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM}: apt-get install chromium (or set PODNET_CHROMIUM)`);
    return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--headless=new", "--no-sandbox", "--disable-gpu"] });
}

describe("the SVG diagram, measured in the browser", () => {
    let browser: Browser;
    before(async () => { browser = await launch(); });
    after(async () => { await browser.close(); });

    for (const n of [3, 6, 10]) {
        it(`${n} nodes: every text inside the picture and inside its box`, async () => {
            const page = await browser.newPage();
            await page.setContent(`<!doctype html><body style="margin:0">${renderSvg(labOutputs(n, n === 6 ? "vxlan" : "lab"), undefined)}</body>`);
            const bad = await page.evaluate(() => {
                const svg = document.querySelector("svg") as SVGSVGElement;
                const W = svg.width.baseVal.value;
                const rects = [...svg.querySelectorAll("rect")].filter((r) => r.getAttribute("width") !== "100%").map((r) => r.getBBox());
                const out: string[] = [];
                for (const t of svg.querySelectorAll("text")) {
                    if (t.getAttribute("transform")) { continue; }
                    const b = t.getBBox(), mid = b.y + b.height / 2;
                    if (b.x + b.width > W) { out.push(`${t.textContent} ends at ${Math.round(b.x + b.width)}, the picture at ${W}`); }
                    const box = rects.filter((r) => b.x >= r.x && b.x <= r.x + r.width && mid >= r.y && mid <= r.y + r.height).sort((a, c) => a.width - c.width)[0];
                    if (box && b.x + b.width > box.x + box.width) { out.push(`${t.textContent} ends at ${Math.round(b.x + b.width)}, its box at ${box.x + box.width}`); }
                }
                return out;
            });
            if (n === 10) {
                const w = await page.evaluate(() => (document.querySelector("svg") as SVGSVGElement).width.baseVal.value);
                await page.setViewport({ width: Math.ceil(w), height: 600 });
                await page.screenshot({ path: path.join(DOCS, "diagram-10-nodes.png"), fullPage: true });
            }
            await page.close();
            assert.deepEqual(bad, []);
        });
    }
});

/** `podnet serve` on these outputs, on a free port: its address and token, as it printed them. */
async function startServe(outputs: string): Promise<{ server: ChildProcess; url: string; token: string }> {
    const server = spawn(process.execPath, [path.join(root, "build", "cockpit", "main.js"), "serve", "--port", "0", "--outputs", outputs], { stdio: ["ignore", "pipe", "inherit"] });
    const printed = await new Promise<string>((resolve, reject) => {
        let text = "";
        server.stdout?.on("data", (c: Buffer) => { text += c.toString(); if (/#token=\w+/.test(text)) { resolve(text); } });
        server.once("exit", (code) => reject(new Error(`serve exited ${code}: ${text}`)));
    });
    log(printed.trim().split("\n")[0]);
    const [, url, token] = /open (http:\/\/127\.0\.0\.1:\d+\/)#token=(\w+)/.exec(printed) ?? [];
    return { server, url, token };
}

/**
 * Each pod's row on the live page, measured: its texts inside its box, and its IP, runtime tag and veth label side by
 * side without overlapping. Returns what does not fit.
 */
function podRowsMisfit(page: Page): Promise<string[]> {
    return page.evaluate(() => {
        const bad: string[] = [];
        for (const g of document.querySelectorAll<SVGGElement>('#lab-svg [data-el^="pod:"]')) {
            const name = (g.getAttribute("data-el") ?? "").slice(4);
            const box = (g.querySelector("rect.pod-box") as SVGRectElement).getBBox();
            const parts = [
                ["name", g.querySelector("text.pod-name")], ["ip", g.querySelector("text.ip")],
                ["runtime", g.querySelector(".runtime rect")], ["veth", document.querySelector(`[data-el="veth:${name}"] rect`)],
            ].map(([k, e]) => [k, (e as SVGGraphicsElement | null)?.getBBox()] as const);
            for (const [k, b] of parts) {
                if (!b) { bad.push(`${name}: no ${k}`); continue; }
                if (b.x < box.x || b.x + b.width > box.x + box.width) { bad.push(`${name}: ${k} ${Math.round(b.x)}..${Math.round(b.x + b.width)} outside its box ${box.x}..${box.x + box.width}`); }
            }
            for (let i = 1; i < parts.length; i++) {
                const [k0, a] = parts[i - 1], [k1, b] = parts[i];
                if (a && b && a.x + a.width > b.x) { bad.push(`${name}: ${k0} (ends at ${Math.round(a.x + a.width)}) runs into ${k1} (at ${Math.round(b.x)})`); }
            }
            for (const t of g.querySelectorAll<SVGTextElement>(".runtime text")) {
                const r = (g.querySelector(".runtime rect") as SVGRectElement).getBBox(), b = t.getBBox();
                if (b.x + b.width > r.x + r.width) { bad.push(`${name}: the tag '${t.textContent}' is wider than its box`); }
            }
        }
        return bad;
    });
}

describe("podnet serve in the browser, on the e2e lab", () => {
    const out = JSON.parse(fs.readFileSync(OUTPUTS, "utf8")) as LabOutputs;
    const src = out.pods[0];
    const dst = out.pods.find((p) => p.node !== src.node) as LabOutputs["pods"][number];
    let server: ChildProcess;
    let url = "";
    let token = "";
    let browser: Browser;
    let page: Page;

    before(async () => {
        ({ server, url, token } = await startServe(OUTPUTS));
        browser = await launch();
        page = await browser.newPage();
        await page.setViewport({ width: 1440, height: 900 });
        page.on("dialog", (d) => { void d.accept(); });
        await page.goto(`${url}#token=${token}`);
    });
    after(async () => {
        await browser?.close();
        server?.kill("SIGTERM");
    });

    const idle = async () => {
        await page.waitForFunction(() => document.getElementById("matrix-summary")?.dataset.state === "idle" && /model/.test(document.getElementById("matrix-summary")?.textContent ?? ""), { timeout: 60_000 });
    };
    const cells = () => page.$$eval("#matrix td[data-from]", (tds) => tds.map((td) => ({ from: (td as HTMLElement).dataset.from, to: (td as HTMLElement).dataset.to, cls: td.className })));
    /**
     * Screenshots of the overlay model's page get their own names (serve-trace-vxlan.png). In kubelet and cluster mode
     * only the healthy page goes to docs/ (serve-healthy-kubelet.png for docs/kubelet.md, serve-healthy-cluster.png for
     * docs/cluster.md); the others to the temporary folder.
     */
    const shot = async (name: string) => {
        const file = out.podRuntime !== "docker"
            ? (name === "serve-healthy.png" ? path.join(DOCS, `serve-healthy-${out.podRuntime}.png`) : path.join(os.tmpdir(), name))
            : path.join(DOCS, out.podNetwork === "vxlan" ? name.replace(/\.png$/, "-vxlan.png") : name);
        await page.screenshot({ path: file, fullPage: true });
        log(`screenshot ${path.relative(root, file)}`);
    };
    const trace = async (from: string, to: string) => {
        await page.select("#trace-from", from);
        await page.select("#trace-to", to);
        await page.evaluate(() => { (document.getElementById("trace-verdict") as HTMLElement).dataset.state = ""; });
        await page.click("#trace-go");
        await page.waitForFunction(() => document.getElementById("trace-verdict")?.dataset.state === "done", { timeout: 30_000 });
        return page.$eval("#trace-verdict", (e) => e.textContent ?? "");
    };

    it("the page shows the model, and every pod with its live IP; no differences", async () => {
        await page.waitForFunction(() => /differences/.test(document.getElementById("status-summary")?.textContent ?? ""), { timeout: 30_000 });
        await idle();
        const built = RUNTIMES[out.podRuntime].headline.replace(/[()]/g, "\\$&");
        assert.match(await page.$eval("#model", (e) => e.textContent ?? ""), new RegExp(`podNetwork: ${out.podNetwork ?? "lab"} · CNI plugin: ${out.cniPlugin ?? "podnet"} · pods built by ${built}`));
        assert.equal(await page.$eval("#status-summary", (e) => e.textContent), "no differences: the lab is as declared");
        for (const p of out.pods) {
            const text = await page.$eval(`[data-el="pod:${p.name}"]`, (e) => e.textContent ?? "");
            assert.ok(text.includes(p.ip), `pod ${p.name} shows ${text}, not ${p.ip}`);
            assert.match(await page.$eval(`[data-el="veth:${p.name}"]`, (e) => e.textContent ?? ""), /^veth veth\w+/);
            // Who built it: a tag on the pod, its sentence as the tooltip (from status).
            const tag = await page.$eval(`[data-el="runtime:${p.name}"]`, (e) => [e.querySelector("text")?.textContent, e.querySelector("title")?.textContent]);
            assert.deepEqual(tag, [out.podRuntime, RUNTIMES[out.podRuntime].builtBy(p)]);
            // Each address's source, on the IP; in cluster mode the API server's too, which the status read from it.
            const ipTitle = await page.$eval(`[data-el="ip:${p.name}"] > title`, (e) => e.textContent ?? "");
            assert.equal(ipTitle, `eth0 ${p.ip} · stack output ${p.ip}${out.podRuntime === "cluster" ? ` · API server ${p.ip}` : ""}`);
        }
        assert.deepEqual(await podRowsMisfit(page), []);
        assert.ok(await page.$('[data-el="outside"]'), "the outside host is drawn");
        assert.match(await page.$eval("#matrix-summary", (e) => e.textContent ?? ""), /^the model holds/);
        assert.equal((await cells()).filter((c) => c.cls === "fail").length, 0);
        await shot("serve-healthy.png");
    });

    it("cluster mode: the Services drawn with their endpoints; the matrix's Service column names who answered; a trace to svc/web and to its NodePort marks kube-proxy's node, the Service and the pod chosen", async (t) => {
        const web = (out.services ?? []).find((v) => v.name === "web");
        if (out.podRuntime !== "cluster" || !web) { t.skip(`no Service web on this lab (podRuntime ${out.podRuntime}): Services run in cluster mode`); return; }
        const box = await page.$eval(`[data-el="svc:web"]`, (e) => e.textContent ?? "");
        assert.ok(box.includes(`ClusterIP ${web.clusterIp}:80`) && box.includes("NodePort 30080") && box.includes("selector app=web"), box);
        for (const e of web.endpoints) {
            assert.equal(await page.$eval(`[data-el="endpoint:web:${e.pod}"]`, (x) => x.textContent ?? ""), `-> ${e.pod}  ${e.ip}:80  on ${e.node}`);
        }
        for (const n of out.nodes) { assert.match(await page.$eval(`[data-el="kube-proxy:${n.name}"] > text`, (x) => x.textContent ?? ""), /^kube-proxy: the Services as iptables rules$/); }
        // The matrix's column for svc/web: every cell green, or amber where a web pod was answered by itself (hairpin).
        const col = (await cells()).filter((c) => c.to === "svc/web");
        assert.equal(col.length, out.pods.length, "a svc/web cell per pod");
        const texts = await page.$$eval('#matrix td[data-to="svc/web"]', (tds) => tds.map((td) => `${(td as HTMLElement).dataset.from}:${td.textContent}:${td.className}`));
        for (const c of texts) {
            const [from, text, cls] = c.split(":");
            const by = text.replace(/ NAT$/, "");
            assert.ok(web.endpoints.some((e) => e.pod === by), `${from}'s cell names ${by}`);
            assert.equal(cls, by === from ? "masq" : "ok", c);
        }
        const client = out.pods.find((p) => p.name === "pod-net-test") ?? src;
        assert.match(await trace(client.name, "svc/web"), new RegExp(`^Service web: ${web.clusterIp.replace(/\./g, "\\.")}:80 was DNATed on ${client.node} to web-\\d`));
        let lit = await page.$$eval("#lab-svg .hop", (es) => es.map((e) => e.getAttribute("data-el")));
        const chosen = web.endpoints.find((e) => lit.includes(`endpoint:web:${e.pod}`));
        assert.ok(chosen, `the endpoint chosen is marked: ${lit.join(", ")}`);
        for (const want of [`pod:${client.name}`, `kube-proxy:${client.node}`, "svc:web", `pod:${chosen.pod}`]) { assert.ok(lit.includes(want), `${want} not highlighted: ${lit.join(", ")}`); }
        const hops = await page.$$eval("#trace-hops tr", (trs) => trs.map((tr) => tr.children[2]?.textContent ?? ""));
        for (const what of ["matches", "chooses", "DNAT", "conntrack", "reply"]) { assert.ok(hops.includes(what), `no ${what} hop: ${hops.join(", ")}`); }
        // kube-proxy's hops on the client's node (matches ... conntrack) are one marker, "2–6"; every hop is on one.
        assert.equal(await page.$$eval(".hop-marker", (m) => m.reduce((n, e) => n + Number(e.getAttribute("data-hops")), 0)), hops.length, "every hop on a numbered marker");
        assert.ok(await page.$$eval(".hop-marker", (m) => m.some((e) => /^2–[4-7]$/.test(e.getAttribute("data-hop") ?? ""))), "the rules' hops as one marker");
        if (out.podNetwork !== "vxlan") { await page.screenshot({ path: path.join(DOCS, "serve-trace-service.png"), fullPage: true }); log("screenshot docs/serve-trace-service.png"); }
        const via = out.nodes[1];
        assert.match(await trace(out.outside.name, `svc/web@${via.name}`), new RegExp(`^Service web: ${via.lanIp.replace(/\./g, "\\.")}:30080 on ${via.name} was DNATed to web-\\d`));
        lit = await page.$$eval("#lab-svg .hop", (es) => es.map((e) => e.getAttribute("data-el")));
        const viaChosen = web.endpoints.find((e) => lit.includes(`endpoint:web:${e.pod}`));
        assert.ok(viaChosen, `the endpoint chosen is marked: ${lit.join(", ")}`);
        for (const want of ["outside", `kube-proxy:${via.name}`, "svc:web", `pod:${viaChosen.pod}`]) { assert.ok(lit.includes(want), `${want} not highlighted: ${lit.join(", ")}`); }
        // From the outside host the list offers the NodePort through each node, and nothing else.
        assert.deepEqual(await page.$$eval("#trace-to option", (os) => os.map((o) => (o as HTMLOptionElement).value)), out.nodes.map((n) => `svc/web@${n.name}`));
    });

    it(`a trace ${src.name} -> ${dst.name} (across nodes) highlights its hops on the picture`, async () => {
        const verdict = await trace(src.name, dst.name);
        assert.match(verdict, /^across nodes/);
        const rows = await page.$$eval("#trace-hops tr", (trs) => trs.length);
        assert.equal(await page.$$eval(".hop-marker", (m) => m.length), rows, "one numbered marker per hop (no two on one element in a row)");
        const lit = await page.$$eval("#lab-svg .hop", (es) => es.map((e) => e.getAttribute("data-el")));
        const overlay = out.podNetwork === "vxlan" ? [`vxlan:${src.node}`, `vxlan:${dst.node}`] : [];
        for (const want of [`pod:${src.name}`, `veth:${src.name}`, `routes:${src.node}`, ...overlay, "lan", `bridge:${dst.node}`, `pod:${dst.name}`]) {
            assert.ok(lit.includes(want), `${want} not highlighted: ${lit.join(", ")}`);
        }
        if (overlay.length) {
            // The encapsulation is a hop of its own: the VXLAN device, then the LAN in UDP 4789, then the peer's device.
            const encap = await page.$$eval("#trace-hops tr.encap", (trs) => trs.map((tr) => tr.textContent ?? ""));
            assert.equal(encap.length, 2, `the encaps and decaps hops: ${encap.join(" | ")}`);
            assert.match(encap[0], /encaps.*vxlan\.1/);
        }
        await shot("serve-trace.png");
    });

    it(`break route ${src.node} ${dst.node} from the page: its cells turn red, the trace ends lost, the paused agent shows`, async () => {
        await page.select("#break-what", "route");
        await page.select("#break-node", src.node);
        await page.select("#break-peer", dst.node);
        await page.click("#break-go");
        await page.waitForFunction(() => /removed the route/.test(document.getElementById("action-result")?.textContent ?? ""), { timeout: 30_000 });
        await page.waitForFunction(() => /lost/.test(document.getElementById("trace-verdict")?.textContent ?? ""), { timeout: 60_000 });
        await idle();
        const onDst = new Set(out.pods.filter((p) => p.node === dst.node).map((p) => p.name));
        const red = (await cells()).filter((c) => c.cls === "fail");
        for (const p of out.pods.filter((x) => x.node === src.node)) {
            for (const t of onDst) { assert.ok(red.some((c) => c.from === p.name && c.to === t), `${p.name} -> ${t} is not red`); }
        }
        assert.match(await page.$eval("#trace-verdict", (e) => e.textContent ?? ""), /^lost/);
        assert.match(await page.$eval(`[data-el="agent:${src.node}"]`, (e) => `${e.getAttribute("class")} ${e.textContent}`), /paused.*cockpit: route to/);
        assert.match(await page.$eval("#differences", (e) => e.textContent ?? ""), /route .* is missing/);
        await shot("serve-broken.png");
    });

    it("a break without the token, or from another origin, is refused", async () => {
        const r = await page.evaluate(async (node: string) => {
            const res = await fetch("/api/break", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ what: "bridge", node }) });
            return { code: res.status, text: await res.text() };
        }, src.node);
        assert.equal(r.code, 403);
        assert.match(r.text, /needs the token/);
        const foreign = await fetch(`${url}api/break`, { method: "POST", headers: { "content-type": "application/json", "x-podnet-token": token, origin: "http://example.invalid" },
            body: JSON.stringify({ what: "bridge", node: src.node }) });
        assert.equal(foreign.status, 403);
        const s = await (await fetch(`${url}api/status`)).json() as { nodes: { name: string; bridge: { up: boolean } }[] };
        assert.ok(s.nodes.find((n) => n.name === src.node)?.bridge.up, "the bridge is still up");
    });

    it("fix from the page: status clean, every cell back, the trace across nodes again", async () => {
        await page.click("#fix-go");
        await page.waitForFunction(() => /status is clean|still shows/.test(document.getElementById("action-result")?.textContent ?? ""), { timeout: 60_000 });
        assert.match(await page.$eval("#action-result", (e) => e.textContent ?? ""), /status is clean/);
        await page.waitForFunction(() => /across nodes/.test(document.getElementById("trace-verdict")?.textContent ?? ""), { timeout: 60_000 });
        await idle();
        assert.equal((await cells()).filter((c) => c.cls === "fail").length, 0);
        assert.match(await page.$eval("#matrix-summary", (e) => e.textContent ?? ""), /^the model holds/);
        assert.equal(await page.$eval("#status-summary", (e) => e.textContent), "no differences: the lab is as declared");
    });
});

describe("podnet serve on a stack output that no longer says a pod's address (as after a node restart in kubelet mode)", () => {
    const out = JSON.parse(fs.readFileSync(OUTPUTS, "utf8")) as LabOutputs;
    const kubelet = RUNTIMES[out.podRuntime].newSandboxNewIp;
    const pod = out.pods[out.pods.length - 1];
    const said = pod.ip.replace(/\.\d+$/, ".200");
    const file = path.join(os.tmpdir(), `podnet-web-stale-${process.pid}.json`);
    let server: ChildProcess;
    let browser: Browser;
    let page: Page;

    before(async () => {
        assert.ok(!out.pods.some((p) => p.ip === said), `${said} is some pod's`);
        fs.writeFileSync(file, JSON.stringify({ ...out, pods: out.pods.map((p) => (p === pod ? { ...p, ip: said } : p)) }));
        const s = await startServe(file);
        server = s.server;
        browser = await launch();
        page = await browser.newPage();
        await page.setViewport({ width: 1440, height: 900 });
        await page.goto(s.url);
        await page.waitForFunction(() => /difference/.test(document.getElementById("status-summary")?.textContent ?? ""), { timeout: 30_000 });
    });
    after(async () => {
        await browser?.close();
        server?.kill("SIGTERM");
        fs.rmSync(file, { force: true });
    });

    it(kubelet ? `${pod.name}'s live IP drawn as a new sandbox's, listed as a note, not a difference; the matrix probes the live IP and holds`
        : `docker mode: ${pod.name}'s IP other than declared is red and a difference`, async () => {
        // The page runs the matrix as it opens; wait for it (its probes are removed at its end).
        await page.waitForFunction(() => document.getElementById("matrix-summary")?.dataset.state === "idle" && /model/.test(document.getElementById("matrix-summary")?.textContent ?? ""), { timeout: 60_000 });
        const ip = await page.$eval(`[data-ip="${pod.name}"]`, (e) => [e.textContent, e.getAttribute("class")]);
        if (!kubelet) {
            assert.deepEqual(ip, [`${pod.ip} (declared ${said})`, "ip bad"]);
            assert.match(await page.$eval("#differences", (e) => e.textContent ?? ""), new RegExp(`${pod.name}: eth0 has ${pod.ip.replace(/\./g, "\\.")}, declared`));
            return;
        }
        assert.deepEqual(ip, [`${pod.ip} (new sandbox; was ${said})`, "ip new-sandbox"]);
        assert.equal(await page.$eval("#status-summary", (e) => e.textContent), "no differences: the lab is as declared");
        assert.equal(await page.$eval("#notes", (e) => e.textContent),
            `${pod.name}: a new sandbox has ${pod.ip} (the stack output says ${said}: kubelet mode gives a new sandbox a new IP, as Kubernetes does)`);
        assert.deepEqual(await podRowsMisfit(page), [], "the longer IP text still fits its row");
        await page.screenshot({ path: path.join(os.tmpdir(), "serve-new-sandbox.png"), fullPage: true });
        assert.match(await page.$eval("#matrix-summary", (e) => e.textContent ?? ""), /^the model holds/);
    });
});
