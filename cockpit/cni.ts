// `cni POD`: the pod's last CNI ADD as its node's runtime made it: the node's network configuration, then each plugin's
// call in order, with the CNI_* variables, the configuration it read on stdin, what it said on stderr (podnet's call to
// its IPAM plugin) and the result it printed. Docker mode: the lab's runtime (podnet-cni) logs every plugin call it
// makes. Kubelet mode: containerd makes the calls, and the podnet plugin logs the one it gets (under the name kubelet
// gave the pod, web-1-node1); a plugin that logs nothing (portmap, the reference bridge) is named, not shown.
import { CNI_CONFLIST } from "../plan/cni";
import { assertNever } from "../plan/errors";
import { AnyLabOutputs } from "../plan/outputs";
import { CockpitError, onNode, q } from "./live";
import { podView } from "./runtime";

/** One plugin call, as podnet-cni logs it (one JSON line each). */
export interface CniCall {
    readonly time: string;
    readonly plugin: string;
    readonly env: Readonly<Record<string, string>>;
    readonly stdin: unknown;
    readonly stdout: unknown;
    readonly exit: number;
    readonly stderr: readonly string[];
    /** Who ran the plugin, as the podnet plugin logs a call it did not get from podnet-cni (containerd). */
    readonly caller?: string;
}
/** `kubeletName`: kubelet mode, the name the calls were logged under (K8S_POD_NAME). */
export interface CniView {
    readonly pod: string; readonly node: string; readonly kubeletName?: string; readonly conflist: unknown; readonly calls: readonly CniCall[];
}

const SEP = "@@podnet-cni-last";

/** The node's conflist and `podnet-cni LAST POD`, in one exec. */
export async function cniView(out: AnyLabOutputs, podName: string): Promise<CniView> {
    const pod = out.pods.find((p) => p.name === podName);
    if (!pod) { throw new CockpitError(`cni: no pod ${podName}; pods: ${out.pods.map((p) => p.name).join(", ")}`); }
    if (out.podNetwork === "docker0") { throw new CockpitError("cni: this lab runs podNetwork docker0 (the \"before\" state), where Docker wires the pods and no CNI runs"); }
    const node = out.nodes.find((n) => n.name === pod.node)!;
    const view = podView(out, pod);
    let kubeletName: string | undefined;
    switch (view.runtime) {
        case "docker": kubeletName = undefined; break;
        case "kubelet": kubeletName = view.kubeletName; break;
        // containerd ran the conflist for kubelet, under the Pod object's own name.
        case "cluster": kubeletName = view.kubeletName; break;
        default: assertNever(view);
    }
    const text = await onNode(node.container, `cat ${CNI_CONFLIST} 2>/dev/null; echo ${SEP}; podnet-cni LAST ${q(kubeletName ?? pod.name)}`);
    return parseCniView(pod.name, node.name, text, kubeletName);
}

/** Pure: what cniView's exec printed -> the view. */
export function parseCniView(pod: string, node: string, text: string, kubeletName?: string): CniView {
    const [conf, last = ""] = text.split(`${SEP}\n`);
    let conflist: unknown = null;
    try { conflist = conf.trim() ? JSON.parse(conf) : null; } catch { conflist = conf.trim(); }
    const calls = last.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as CniCall);
    return { pod, node, ...(kubeletName ? { kubeletName } : {}), conflist, calls };
}

const compact = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** For people: the configuration's plugins, then each call as the plugin saw it. */
export function renderCni(v: CniView): string {
    const list = v.conflist as { name?: string; plugins?: { type?: string }[] } | null;
    const types = (list?.plugins ?? []).map((p) => p.type ?? "?");
    const logged = v.kubeletName ?? v.pod;
    const lines = [
        v.kubeletName
            ? `pod ${v.pod} on ${v.node} (kubelet name ${v.kubeletName}): its last CNI ADD, as containerd ran it for kubelet`
            : `pod ${v.pod} on ${v.node}: its last CNI ADD, as the node's runtime (podnet-cni) ran it`,
        `network configuration ${CNI_CONFLIST}: ${list?.plugins ? `network ${list.name}, plugins ${types.join(" -> ")}` : "none"}`,
    ];
    const unlogged = types.filter((t) => !v.calls.some((c) => c.plugin === t));
    if (v.kubeletName && v.calls.length && unlogged.length) {
        lines.push(`(containerd runs every plugin of the list; only the podnet plugin logs the calls it gets, so the call${unlogged.length > 1 ? "s" : ""} to ${unlogged.join(" and ")} ${unlogged.length > 1 ? "are" : "is"} not shown)`);
    }
    if (!v.calls.length) {
        const who = !v.kubeletName ? "" : types.includes("podnet") ? "the podnet plugin logs each call containerd makes to it; "
            : `containerd ran ${types.join(" -> ") || "no plugin"}, and only the lab's podnet plugin logs the calls it gets; `;
        lines.push("", `no ADD logged for ${logged} on ${v.node} (${who}the log keeps the last 2 MB of calls)`);
        return lines.join("\n");
    }
    v.calls.forEach((c, i) => {
        lines.push("", `${i + 1}. ${c.plugin}: exit ${c.exit} at ${c.time}${c.caller ? `, called by ${c.caller}` : ""}`);
        for (const [k, val] of Object.entries(c.env)) { lines.push(`   ${k}=${val}`); }
        lines.push(`   stdin:  ${compact(c.stdin)}`);
        for (const e of c.stderr) { lines.push(`   stderr: ${e}`); }
        lines.push(`   stdout: ${compact(c.stdout)}`);
    });
    return lines.join("\n");
}
