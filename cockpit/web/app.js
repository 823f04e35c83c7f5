// The live page: draws the lab from /api/diagram (the stack outputs) and /api/status (what is live), the matrix from
// /api/matrix, a trace from /api/trace on the picture; break and fix are POSTs with the run's token. No framework.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const state = { out: null, status: null, pairs: null, trace: null, busy: {} };

// The token comes in the address printed at start (#token=…), and stays for this tab only.
(function takeToken() {
  const m = /token=([0-9a-f]+)/.exec(location.hash);
  if (m) { sessionStorage.setItem("podnet-token", m[1]); history.replaceState(null, "", location.pathname); }
  $("token").value = sessionStorage.getItem("podnet-token") || "";
  $("token").addEventListener("change", () => sessionStorage.setItem("podnet-token", $("token").value.trim()));
})();

async function api(path, init) {
  const r = await fetch(path, init);
  const text = await r.text();
  if (!r.ok) { throw new Error(`${r.status}: ${text.trim()}`); }
  return JSON.parse(text);
}

/** One request per kind at a time: a click while one runs waits for that one instead of starting another. */
function once(kind, run) {
  if (state.busy[kind]) { return state.busy[kind]; }
  state.busy[kind] = run().finally(() => { delete state.busy[kind]; });
  return state.busy[kind];
}

// ---------- the picture ----------
const CH = 7.3; // px per character of the 12px monospace font (0.6 em, with room)
const el = (name, attrs, parent, text) => {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs || {})) { e.setAttribute(k, String(v)); }
  if (text !== undefined) { e.textContent = text; }
  if (parent) { parent.appendChild(e); }
  return e;
};
const PROXY_LINE = "kube-proxy: the Services as iptables rules";
const opt = (v) => { const o = document.createElement("option"); o.value = v; o.textContent = v; return o; };
const routeText = (r) => `${r.to} via ${r.via}${r.dev ? ` dev ${r.dev}` : ""}${r.remote ? ` -> UDP to ${r.remote}` : ""}`;

function draw() {
  const out = state.out;
  if (!out) { return; }
  const st = state.status;
  const live = (name) => st && st.pods.find((p) => p.name === name);
  const nodeLive = (name) => st && st.nodes.find((n) => n.name === name);
  const diffsOf = (name) => (st ? st.differences.filter((d) => d.startsWith(`${name}:`)) : []);
  const podsOf = (n) => out.pods.filter((p) => p.node === n.name);

  const vethLine = (p) => { const l = live(p.name); return `veth ${l && l.veth ? l.veth : "?"}`; };
  const lines = out.nodes.map((n) => [
    `${n.name}  LAN ${n.lanIp}`, `bridge ${n.bridge} ${n.bridgeIp}  ${n.podCidr}`,
    ...(n.vxlan ? [`${n.vxlan.device}  VNI ${n.vxlan.vni}  UDP ${n.vxlan.port}  VTEP ${n.vxlan.vtepIp}`] : []),
    ...n.routes.map((r) => `route ${routeText(r)}`),
    ...(out.podRuntime === "cluster" ? [PROXY_LINE] : []),
  ]);
  // A pod's row, left to right: "pod NAME" (bold), its IP, the runtime's tag, the veth's box; each sized from its text.
  const podWidth = (p) => 18 + (p.name.length + 5) * CH + ipLabel(p, live(p.name)).text.length * CH + 10 + tagWidth(p.runtime) + 8 + vethLine(p).length * CH + 4 + 20;
  const W = Math.max(250, ...lines.flat().map((s) => s.length * CH + 40), ...out.pods.map(podWidth));
  const rows = Math.max(1, ...out.nodes.map((n) => podsOf(n).length));
  const routeRows = Math.max(1, ...out.nodes.map((n) => n.routes.length)) + (out.nodes.some((n) => n.vxlan) ? 1 : 0);
  // Cluster mode: kube-proxy's line in each node (a Service trace's rules are marked on it), and the Services under the LAN.
  const services = out.services || [];
  const proxied = out.podRuntime === "cluster";
  const G = 28, M = 16, top = 16;
  const nodeH = 58 + rows * 34 + 44 + routeRows * 16 + 16 + (proxied ? 22 : 0);
  const lanY = top + nodeH + 46;
  const svcLines = services.map(serviceLines);
  const svcW = Math.max(0, ...svcLines.flat().map((t) => t.length * CH + 24));
  const HW = Math.max(200, ...[`${out.outside.name}  ${out.outside.ip}`, "stands in for the internet"].map((t) => t.length * CH + 30));
  const width = M + out.nodes.length * (W + G) + HW + M;
  const svcTop = lanY + 40;
  const svcH = (k) => 30 + svcLines[k].length * 16;
  const height = lanY + 40 + (services.length ? 22 + svcLines.reduce((h, _l, k) => h + svcH(k) + 10, 0) : 0);

  const svg = el("svg", { xmlns: SVGNS, width, height, viewBox: `0 0 ${width} ${height}`, id: "lab-svg" });
  // The trace's path runs behind the boxes (so it never crosses their text); its numbered markers sit on top.
  el("g", { id: "hop-path" }, svg);
  const hopLayer = el("g", { id: "hops" });
  out.nodes.forEach((n, i) => {
    const x = M + i * (W + G), y = top;
    const nl = nodeLive(n.name);
    const g = el("g", { "data-el": `node:${n.name}`, class: `node${diffsOf(n.name).length ? " diff" : ""}${nl && !nl.running ? " down" : ""}` }, svg);
    el("rect", { x, y, width: W, height: nodeH, rx: 10, class: "node-box" }, g);
    el("text", { x: x + 12, y: y + 22, class: "title" }, g, `${n.name}`);
    el("text", { x: x + 12 + (n.name.length + 2) * CH * 1.1, y: y + 22, class: "dim" }, g, `LAN ${n.lanIp}`);
    // The agent's line is cut to the box; the whole of it is its tooltip (and in the differences below).
    const agent = nl ? nl.agent : "…";
    const paused = /^paused/.test(agent);
    const said = paused ? `PAUSED agent: ${agent.replace(/^paused since \S+: /, "")}` : `agent: ${agent}`;
    const room = Math.floor((W - 24) / (CH * 0.92));
    const at = el("text", { x: x + 12, y: y + 40, class: paused ? "agent paused" : "agent", "data-el": `agent:${n.name}` }, g, said.length > room ? `${said.slice(0, room - 1)}…` : said);
    el("title", {}, at, `node agent: ${agent}`);
    podsOf(n).forEach((p, k) => {
      const l = live(p.name);
      const py = y + 52 + k * 34;
      const pg = el("g", { "data-el": `pod:${p.name}`, class: `pod${diffsOf(p.name).length ? " diff" : ""}` }, g);
      el("rect", { x: x + 10, y: py, width: W - 20, height: 28, rx: 5, class: "pod-box" }, pg);
      el("text", { x: x + 18, y: py + 18, class: "pod-name" }, pg, `pod ${p.name}`);
      const ip = ipLabel(p, l);
      const ig = el("g", { "data-el": `ip:${p.name}` }, pg);
      el("text", { x: x + 18 + (p.name.length + 5) * CH, y: py + 18, class: `ip${ip.cls}`, "data-ip": p.name }, ig, ip.text);
      // Where each address comes from: the pod's eth0 now, the stack output, and (cluster mode) the API server's status.podIP.
      el("title", {}, ig, l ? `eth0 ${l.liveIp || "no IP"} · stack output ${p.ip}${l.apiIp !== undefined ? ` · API server ${l.apiIp || "no IP"}` : ""}` : `stack output ${p.ip}`);
      const vg = el("g", { "data-el": `veth:${p.name}` }, g);
      const vt = vethLine(p);
      const vx = x + W - 20 - vt.length * CH;
      el("rect", { x: vx, y: py + 5, width: vt.length * CH + 4, height: 18, rx: 3, class: "veth-box" }, vg);
      el("text", { x: vx + 2, y: py + 18, class: "veth" }, vg, vt);
      // Who built the pod (the lab's steps through the node's Docker, kubelet and containerd, ...), as the server says it.
      const rt = p.runtime, tw = tagWidth(rt);
      const tg = el("g", { "data-el": `runtime:${p.name}`, class: `runtime ${rt}` }, pg);
      el("rect", { x: vx - 8 - tw, y: py + 6, width: tw, height: 16, rx: 8, class: "runtime-box" }, tg);
      el("text", { x: vx - 8 - tw + 6, y: py + 18, class: "runtime-tag" }, tg, rt);
      el("title", {}, tg, p.builtBy);
    });
    const by = y + 58 + rows * 34;
    const bg = el("g", { "data-el": `bridge:${n.name}`, class: nl && !nl.bridge.up ? "diff" : "" }, g);
    el("rect", { x: x + 10, y: by, width: W - 20, height: 34, rx: 5, class: "bridge-box" }, bg);
    el("text", { x: x + 18, y: by + 15 }, bg, `bridge ${n.bridge} ${n.bridgeIp}${nl && !nl.bridge.up ? "  DOWN" : ""}`);
    el("text", { x: x + 18, y: by + 29, class: "dim" }, bg, `pod subnet ${n.podCidr}`);
    let ry = by + 54;
    if (n.vxlan) {
      const xg = el("g", { "data-el": `vxlan:${n.name}`, class: nl && nl.vxlan && !nl.vxlan.up ? "diff" : "" }, g);
      el("rect", { x: x + 10, y: ry - 13, width: W - 20, height: 18, rx: 3, class: "vxlan-box" }, xg);
      el("text", { x: x + 16, y: ry }, xg, `${n.vxlan.device}  VNI ${n.vxlan.vni}  UDP ${n.vxlan.port}  VTEP ${n.vxlan.vtepIp}`);
      ry += 18;
    }
    const rg = el("g", { "data-el": `routes:${n.name}` }, g);
    el("rect", { x: x + 10, y: ry - 13, width: W - 20, height: Math.max(1, n.routes.length) * 16 + 4, rx: 3, class: "routes-box" }, rg);
    const liveRoutes = nl ? nl.routes : [];
    (n.routes.length ? n.routes : [null]).forEach((r, k) => {
      const missing = r && liveRoutes.some((lr) => lr.to === r.to && lr.via === r.via && !lr.present);
      el("text", { x: x + 16, y: ry + k * 16, class: `route${missing ? " bad" : ""}` }, rg, r ? `route ${routeText(r)}${missing ? "  MISSING" : ""}` : "no routes (no peers)");
    });
    if (proxied) {
      const ky = ry + Math.max(1, n.routes.length) * 16 + 10;
      const kg = el("g", { "data-el": `kube-proxy:${n.name}` }, g);
      el("rect", { x: x + 10, y: ky - 13, width: W - 20, height: 18, rx: 3, class: "proxy-box" }, kg);
      el("text", { x: x + 16, y: ky }, kg, PROXY_LINE);
      el("title", {}, kg, "kube-proxy's nat rules: KUBE-SERVICES (ClusterIP) or KUBE-NODEPORTS -> KUBE-SVC-… (one endpoint at random) -> KUBE-SEP-… (DNAT to the pod)");
    }
    el("line", { x1: x + W / 2, y1: y + nodeH, x2: x + W / 2, y2: lanY, class: "link" }, svg);
  });
  const hx = M + out.nodes.length * (W + G), hy = top + nodeH - 90;
  const og = el("g", { "data-el": "outside", class: "outside" }, svg);
  el("rect", { x: hx, y: hy, width: HW, height: 90, rx: 10, class: "outside-box" }, og);
  el("text", { x: hx + 12, y: hy + 22, class: "title" }, og, "outside host");
  el("text", { x: hx + 12, y: hy + 42 }, og, `${out.outside.name}  ${out.outside.ip}`);
  el("text", { x: hx + 12, y: hy + 60, class: "dim" }, og, "outside the cluster:");
  el("text", { x: hx + 12, y: hy + 76, class: "dim" }, og, "stands in for the internet");
  el("line", { x1: hx + HW / 2, y1: hy + 90, x2: hx + HW / 2, y2: lanY, class: "link outside-link" }, svg);
  const lg = el("g", { "data-el": "lan" }, svg);
  el("line", { x1: M, y1: lanY, x2: hx + HW, y2: lanY, class: "lan" }, lg);
  el("text", { x: M, y: lanY + 22 }, lg, `LAN ${out.lan.network} ${out.lan.cidr} (gateway ${out.lan.gateway})`);
  if (services.length) {
    el("text", { x: M, y: svcTop + 6, class: "title" }, svg, "Services (kube-proxy's rules on every node send each to a pod it selects)");
    let sy = svcTop + 22;
    services.forEach((v, k) => {
      const sg = el("g", { "data-el": `svc:${v.name}`, class: "service" }, svg);
      el("rect", { x: M, y: sy, width: svcW, height: svcH(k), rx: 8, class: "svc-box" }, sg);
      svcLines[k].forEach((t, j) => {
        const ep = j >= 2 ? v.endpoints[j - 2] : undefined;
        const tg = ep ? el("g", { "data-el": `endpoint:${v.name}:${ep.pod}` }, sg) : sg;
        el("text", { x: M + 12, y: sy + 20 + j * 16, class: j === 0 ? "title" : j === 1 ? "dim" : "" }, tg, t);
      });
      sy += svcH(k) + 10;
    });
  }
  svg.appendChild(hopLayer);
  const holder = $("picture");
  holder.replaceChildren(svg);
  drawTrace();
}

/** A Service's lines in the picture: its name and addresses, its selector, then one line per endpoint. */
function serviceLines(v) {
  const p = v.ports[0] || { port: "?" };
  return [
    `svc/${v.name}  ${v.type}  ClusterIP ${v.clusterIp}:${p.port}${p.nodePort ? `  NodePort ${p.nodePort} on every node's LAN address` : ""}`,
    `selector ${v.selector || "(none)"}: ${v.endpoints.length} endpoint(s)`,
    ...v.endpoints.map((e) => `-> ${e.pod}  ${e.ip}:${p.targetPort || p.port}  on ${e.node}`),
  ];
}

const TAG_CH = 6.4; // px per character of the runtime tag's 10.5px font
const tagWidth = (text) => text.length * TAG_CH + 12;

/**
 * The IP drawn on a pod: the live one. Another than the stack output's is red, unless status says it is a new
 * sandbox's (kubelet mode gives a new sandbox a new IP, as Kubernetes does): then a note, drawn plainly.
 */
function ipLabel(p, l) {
  if (!l) { return { text: p.ip, cls: "" }; }
  if (l.liveIp === p.ip) { return { text: p.ip, cls: "" }; }
  const note = (state.status.notes || []).some((n) => n.startsWith(`${p.name}: a new sandbox has ${l.liveIp} `));
  if (note) { return { text: `${l.liveIp} (new sandbox; was ${p.ip})`, cls: " new-sandbox" }; }
  return { text: `${l.liveIp || "no IP"} (declared ${p.ip})`, cls: " bad" };
}

// ---------- status ----------
async function refreshStatus() {
  return once("status", async () => {
    try {
      state.status = await api("/api/status");
      const d = state.status.differences;
      $("status-summary").textContent = d.length ? `${d.length} difference${d.length > 1 ? "s" : ""} from the declared lab` : "no differences: the lab is as declared";
      $("status-summary").className = `summary ${d.length ? "bad" : "good"}`;
      $("differences").replaceChildren(...d.map((x) => { const li = document.createElement("li"); li.textContent = x; return li; }));
      $("notes").replaceChildren(...(state.status.notes || []).map((x) => { const li = document.createElement("li"); li.textContent = x; return li; }));
    } catch (e) {
      $("status-summary").textContent = `status failed: ${e.message}`;
      $("status-summary").className = "summary bad";
    }
    draw();
  });
}

// ---------- matrix ----------
async function refreshMatrix() {
  return once("matrix", async () => {
    $("matrix-summary").textContent = "probing…";
    $("matrix-summary").dataset.state = "running";
    $("matrix-refresh").disabled = true;
    try {
      state.pairs = (await api("/api/matrix")).pairs;
      // Each pair comes with the model's verdict on it (the server's pairHolds).
      const holds = state.pairs.length && state.pairs.every((p) => p.holds);
      $("matrix-summary").textContent = `${holds ? "the model holds" : "the model does NOT hold"} (${new Date().toLocaleTimeString()})`;
      $("matrix-summary").className = `summary ${holds ? "good" : "bad"}`;
      drawMatrix();
    } catch (e) {
      $("matrix-summary").textContent = `matrix failed: ${e.message}`;
      $("matrix-summary").className = "summary bad";
    } finally {
      $("matrix-summary").dataset.state = "idle";
      $("matrix-refresh").disabled = false;
    }
  });
}

function drawMatrix() {
  const out = state.out, pairs = state.pairs || [];
  const targets = [...out.pods.map((p) => p.name), out.outside.name, ...(out.services || []).map((v) => `svc/${v.name}`)];
  const t = $("matrix");
  const head = document.createElement("tr");
  head.appendChild(document.createElement("th"));
  for (const to of targets) { const th = document.createElement("th"); th.textContent = to; th.className = "col"; head.appendChild(th); }
  const rows = out.pods.map((p) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th"); th.textContent = p.name; tr.appendChild(th);
    for (const to of targets) {
      const td = document.createElement("td");
      const pair = pairs.find((x) => x.from === p.name && x.to === to);
      td.dataset.from = p.name; td.dataset.to = to;
      if (to === p.name) { td.className = "self"; } else if (!pair) { td.className = "none"; } else {
        // A Service's cell is amber only for the hairpin the model expects; any other miss there is red.
        td.className = !pair.reached || pair.answeredBy || (pair.path === "service" && !pair.holds) ? "fail" : pair.nat ? "masq" : "ok";
        const by = pair.endpoint ? `answered by ${pair.endpoint}${pair.endpoint === p.name ? " (itself: hairpin)" : ""}` : "reached";
        td.title = `${p.name} -> ${to}${pair.toIp ? ` (${pair.toIp})` : ""}: ${pair.reached ? (pair.answeredBy ? `answered by ${pair.answeredBy}` : by) : "not reached"}; source seen ${pair.sourceSeen || "-"}; ${pair.path}. Click to trace.`;
        // A Service's cell names the pod that answered.
        td.textContent = !pair.reached ? "✕" : pair.answeredBy ? "!" : pair.path === "service" ? `${pair.endpoint || "?"}${pair.nat ? " NAT" : ""}` : pair.nat ? "NAT" : "";
        // Reached, but not as the model says (NAT between pods, a Service's answer masqueraded or not when it should): outlined.
        if (td.className !== "fail" && !pair.holds) { td.classList.add("unexpected"); }
        td.addEventListener("click", () => { $("trace-from").value = p.name; traceTargets(); $("trace-to").value = to; runTrace(); });
      }
      tr.appendChild(td);
    }
    return tr;
  });
  t.replaceChildren(head, ...rows);
}

// ---------- trace ----------
async function runTrace() {
  const from = $("trace-from").value, to = $("trace-to").value;
  $("trace-verdict").textContent = `tracing ${from} -> ${to}…`;
  $("trace-verdict").dataset.state = "running";
  try {
    state.trace = await once(`trace ${from} ${to}`, () => api(`/api/trace?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`));
    $("trace-verdict").textContent = state.trace.verdict;
    $("trace-verdict").className = `verdict ${/^(lost|dropped|no answer)/.test(state.trace.verdict) ? "bad" : "good"}`;
  } catch (e) {
    state.trace = null;
    $("trace-verdict").textContent = `trace failed: ${e.message}`;
    $("trace-verdict").className = "verdict bad";
  }
  $("trace-verdict").dataset.state = "done";
  const rows = (state.trace ? state.trace.hops : []).map((h, i) => {
    const tr = document.createElement("tr");
    tr.className = h.what === "LOST" ? "lost" : /encaps|decaps/.test(h.what) ? "encap" : "";
    for (const c of [String(i + 1), h.at, h.what, h.interface || "", h.address || "", h.detail]) { const td = document.createElement("td"); td.textContent = c; tr.appendChild(td); }
    return tr;
  });
  $("trace-hops").replaceChildren(...rows);
  drawTrace();
}

const SERVICE_HOPS = ["matches", "passes", "chooses", "DNAT", "conntrack", "SNAT", "reply"];

/** Which element of the picture a hop of `trace` is at. */
function hopElement(h, t) {
  const out = state.out;
  if (h.at.startsWith("pod ")) { return `pod:${h.at.slice(4)}`; }
  if (h.at.startsWith("LAN ")) { return "lan"; }
  if (h.at === out.outside.name) { return "outside"; }
  // A Service trace: the rules, the DNAT, conntrack and the masquerade are kube-proxy's, on that node.
  if (SERVICE_HOPS.includes(h.what) && out.nodes.some((n) => n.name === h.at)) { return `kube-proxy:${h.at}`; }
  if (h.what === "veth") { return `veth:${t.from}`; }
  if (h.what === "bridge") { return `bridge:${h.at}`; }
  if (h.what === "encaps" || h.what === "decaps") { return `vxlan:${h.at}`; }
  return `routes:${h.at}`;
}

function drawTrace() {
  const svg = $("lab-svg");
  if (!svg) { return; }
  for (const e of svg.querySelectorAll(".hop, .lost-hop")) { e.classList.remove("hop", "lost-hop"); }
  const layer = svg.querySelector("#hops");
  const pathLayer = svg.querySelector("#hop-path");
  layer.replaceChildren();
  pathLayer.replaceChildren();
  const t = state.trace;
  if (!t) { return; }
  // A Service trace: the Service, and the pod kube-proxy chose (the server names both), are marked too.
  if (t.service) {
    const box = svg.querySelector(`[data-el="svc:${t.service}"]`);
    if (box) { box.classList.add("hop"); }
    const ep = t.endpoint && svg.querySelector(`[data-el="endpoint:${t.service}:${t.endpoint}"]`);
    if (ep) { ep.classList.add("hop"); }
  }
  const points = [];
  const visits = {};
  const lanY = Number(svg.querySelector('[data-el="lan"] line').getAttribute("y1"));
  let lastX = 0;
  t.hops.forEach((h, i) => {
    const target = svg.querySelector(`[data-el="${hopElement(h, t)}"]`);
    if (!target) { return; }
    target.classList.add(h.what === "LOST" ? "lost-hop" : "hop");
    const b = target.getBBox();
    // On the LAN, the packet crosses between the nodes: mark it between the last point and the next element.
    // Markers sit just outside the element (left of it; right of a veth label, whose left is the pod's IP), so they
    // cover no text.
    // A run of hops on one element (a Service's rules on kube-proxy's node) is one marker, "2–6"; a later visit to the
    // same element goes on its other side, so markers never cover each other.
    const key = hopElement(h, t);
    const last = points[points.length - 1];
    if (last && last[4] === key && key !== "lan") { last[3].push(i + 1); target.classList.add(h.what === "LOST" ? "lost-hop" : "hop"); return; }
    const again = (visits[key] = (visits[key] || 0) + 1) > 1;
    const outsideRight = /^veth:/.test(key) !== again;
    let x = outsideRight ? b.x + b.width + 9 : b.x - 9, y = b.y + b.height / 2;
    if (hopElement(h, t) === "lan") {
      const next = t.hops[i + 1] && svg.querySelector(`[data-el="${hopElement(t.hops[i + 1], t)}"]`);
      const nx = next ? next.getBBox().x : lastX + 80;
      x = (lastX + nx) / 2; y = lanY;
    }
    lastX = x;
    points.push([x, y, h, [i + 1], key]);
  });
  el("polyline", { points: points.map(([x, y]) => `${x},${y}`).join(" "), class: "trace-path" }, pathLayer);
  for (const [x, y, h, ns] of points) {
    const label = ns.length > 1 ? `${ns[0]}–${ns[ns.length - 1]}` : String(ns[0]);
    const g = el("g", { class: `hop-marker${h.what === "LOST" ? " lost" : ""}${/encaps|decaps/.test(h.what) ? " encap" : ""}`, "data-hop": label, "data-hops": ns.length }, layer);
    const w = Math.max(16, label.length * 7 + 6);
    el("rect", { x: x - w / 2, y: y - 8, width: w, height: 16, rx: 8 }, g);
    el("text", { x, y: y + 4, "text-anchor": "middle" }, g, label);
    el("title", {}, g, ns.map((n) => { const k = t.hops[n - 1]; return `${n}. ${k.at} ${k.what} ${k.interface || ""} ${k.address || ""}: ${k.detail}`; }).join("\n"));
  }
}

// ---------- break and fix ----------
async function mutate(path, body, question) {
  if (!window.confirm(question)) { return; }
  const token = $("token").value.trim();
  $("action-result").textContent = "…";
  try {
    const r = await api(path, { method: "POST", headers: { "content-type": "application/json", "x-podnet-token": token }, body: JSON.stringify(body) });
    $("action-result").textContent = r.lines.join("\n");
    $("action-result").className = "";
  } catch (e) {
    $("action-result").textContent = e.message;
    $("action-result").className = "bad";
  }
  // A status or matrix run that started before the change would answer for the lab as it was: wait for it, then ask again.
  await afresh("status", refreshStatus);
  await afresh("matrix", refreshMatrix);
  if (state.trace) { await runTrace(); }
}

/** A run that starts after any of its kind still running has finished (so it sees the lab as it is now). */
async function afresh(kind, run) {
  if (state.busy[kind]) { await state.busy[kind].catch(() => undefined); }
  return run();
}

/** The trace's destinations for its source: from a pod, the pods, the outside host and svc/NAME (the ClusterIP); from the
 *  outside host, svc/NAME@NODE (a NodePort through that node). The one picked stays picked when it is still offered. */
function traceTargets() {
  const out = state.out;
  const services = out.services || [];
  const was = $("trace-to").value;
  $("trace-to").replaceChildren(...($("trace-from").value === out.outside.name
    ? services.filter((v) => v.ports.some((p) => p.nodePort)).flatMap((v) => out.nodes.map((n) => opt(`svc/${v.name}@${n.name}`)))
    : [...out.pods.map((p) => opt(p.name)), opt(out.outside.name), ...services.map((v) => opt(`svc/${v.name}`))]));
  if ([...$("trace-to").options].some((o) => o.value === was)) { $("trace-to").value = was; }
}

function wire() {
  const out = state.out;
  // Services: from a pod, svc/NAME (its ClusterIP); from the outside host, svc/NAME@NODE (its NodePort through that node).
  const services = out.services || [];
  const nodePorts = services.filter((v) => v.ports.some((p) => p.nodePort));
  $("trace-from").replaceChildren(...out.pods.map((p) => opt(p.name)), ...(nodePorts.length ? [opt(out.outside.name)] : []));
  $("trace-from").addEventListener("change", traceTargets);
  traceTargets();
  const far = out.pods.find((p) => p.node !== (out.pods[0] || {}).node);
  if (far) { $("trace-to").value = far.name; }
  $("break-node").replaceChildren(...out.nodes.map((n) => opt(n.name)));
  const peers = () => {
    $("break-peer").replaceChildren(...out.nodes.filter((n) => n.name !== $("break-node").value).map((n) => opt(n.name)));
    $("break-peer-label").hidden = $("break-what").value !== "route";
  };
  $("break-node").addEventListener("change", peers);
  $("break-what").addEventListener("change", peers);
  peers();
  $("status-refresh").addEventListener("click", refreshStatus);
  $("matrix-refresh").addEventListener("click", refreshMatrix);
  $("trace-go").addEventListener("click", runTrace);
  $("trace-clear").addEventListener("click", () => { state.trace = null; $("trace-hops").replaceChildren(); $("trace-verdict").textContent = ""; drawTrace(); });
  $("break-go").addEventListener("click", () => {
    const what = $("break-what").value, node = $("break-node").value, peer = $("break-peer").value;
    const q = what === "route" ? `Remove ${node}'s route to ${peer}'s pods?` : what === "bridge" ? `Set ${node}'s bridge down?` : `Remove ${node}'s MASQUERADE rule?`;
    mutate("/api/break", { what, node, peer }, `${q} ${node}'s node agent is paused first, so nothing repairs it until Fix.`);
  });
  $("fix-go").addEventListener("click", () => mutate("/api/fix", {}, "Resume every node agent and wait until status is clean?"));
}

/** Status every 5 s and the matrix every 15 s while the box is ticked; each waits for the last to finish. */
function loop(run, ms) {
  const tick = async () => { if ($("auto").checked && !document.hidden) { await run(); } setTimeout(tick, ms); };
  setTimeout(tick, ms);
}

(async function start() {
  try {
    state.out = await api("/api/diagram");
  } catch (e) {
    $("model").textContent = `could not read the lab: ${e.message}`;
    return;
  }
  const out = state.out;
  $("lan").textContent = `· ${out.lan.network}`;
  $("model").textContent = `podNetwork: ${out.podNetwork || "lab"} · CNI plugin: ${out.cniPlugin || "podnet"} · pods built by ${out.podRuntimeLine} · ${out.podNetworkLine}`;
  wire();
  draw();
  drawMatrix();
  await refreshStatus();
  await refreshMatrix();
  loop(refreshStatus, 5000);
  loop(refreshMatrix, 15000);
})();
