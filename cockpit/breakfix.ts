// `break route NODE PEER`, `break masquerade NODE`, `break bridge NODE`, and `fix`: take one piece away on a
// live node, on purpose, to watch what fails; the node agent is paused first (and says so in the node's log),
// or it would put the piece back within seconds. `fix` resumes every agent and waits until `status` is clean.
import { agentArgv, MASQUERADE_RULE } from "../plan/node-contract";
import { AnyLabOutputs } from "../plan/outputs";
import { CockpitError, onNode, q } from "./live";
import { status } from "./status";

/** What `break` runs on a node (as `sh -c`), and what it tells the user. */
export interface BreakScript { readonly container: string; readonly script: string; readonly said: string; readonly nodeName: string; }

/** The script that takes the piece away on the node: the node agent's pause, then the piece removed. */
export function breakScript(out: AnyLabOutputs, what: string, nodeName: string | undefined, peerName: string | undefined): BreakScript {
    const node = out.nodes.find((n) => n.name === nodeName);
    if (!node) { throw new CockpitError(`break ${what}: no node ${nodeName ?? "(none given)"}; nodes: ${out.nodes.map((n) => n.name).join(", ")}`); }
    const pause = (why: string) => agentArgv.pause(`cockpit: ${why}`).map(q).join(" ");
    let script: string;
    let said: string;
    switch (what) {
        case "route": {
            const r = node.routes.find((x) => x.to === out.nodes.find((n) => n.name === peerName)?.podCidr);
            if (!r) { throw new CockpitError(`break route ${node.name} ${peerName ?? ""}: name a peer of ${node.name}: ${out.nodes.filter((n) => n !== node).map((n) => n.name).join(", ")}`); }
            script = `${pause(`route to ${peerName} removed`)} && ip route del ${q(r.to)} via ${q(r.via)}`;
            said = `removed the route ${r.to} via ${r.via} on ${node.name}: its pods no longer reach ${peerName}'s pods`;
            break;
        }
        case "masquerade":
            script = `${pause("masquerade removed")} && ${["iptables", "-t", MASQUERADE_RULE.table, "-D", MASQUERADE_RULE.chain, ...MASQUERADE_RULE.spec].map(q).join(" ")}`;
            said = `removed the MASQUERADE rule on ${node.name}: its pods' traffic leaves the cluster with their own addresses, and the outside host cannot answer them`;
            break;
        case "bridge":
            script = `${pause(`bridge ${node.bridge} down`)} && ip link set ${q(node.bridge)} down`;
            said = `set ${node.bridge} down on ${node.name}: its pods reach nothing, not even their gateway`;
            break;
        default:
            throw new CockpitError(`break: '${what}' is not a piece to break; valid: route NODE PEER, masquerade NODE, bridge NODE`);
    }
    return { container: node.container, script, said, nodeName: node.name };
}

export async function breakPiece(out: AnyLabOutputs, what: string, nodeName: string | undefined, peerName: string | undefined): Promise<string[]> {
    const b = breakScript(out, what, nodeName, peerName);
    await onNode(b.container, b.script);
    return [b.said, `${b.nodeName}'s node agent is paused so it does not repair this; 'npm run podnet -- fix' resumes it and puts everything back`];
}

export async function fix(out: AnyLabOutputs, waitSeconds = 20): Promise<string[]> {
    const [resume, once] = [agentArgv.resume(), agentArgv.once()].map((argv) => argv.map(q).join(" "));
    await Promise.all(out.nodes.map((n) => onNode(n.container, `${resume} >/dev/null; ${once} >/dev/null 2>&1; true`)));
    const t0 = Date.now();
    for (;;) {
        const s = await status(out);
        if (!s.differences.length) { return [`every node agent resumed; status is clean after ${((Date.now() - t0) / 1000).toFixed(1)}s`]; }
        if ((Date.now() - t0) / 1000 > waitSeconds) { return [`every node agent resumed, but after ${waitSeconds}s status still shows:`, ...s.differences.map((d) => `  ! ${d}`)]; }
        await new Promise((r) => setTimeout(r, 500));
    }
}
