// The shell commands the lab's Command resources run on the host. Each goes into a node with `docker exec`:
// a node script the lab uploaded (node/bin/*), `ip`, or the node's own `docker run`, so preview shows exactly
// what will run, down to seed 000's `docker run --network container:<pause>`.
import { PodNetwork } from "./config";
import type { NodeInitUpload, NodeScript } from "./load";
import { withCurrentInit } from "./node-init";
import { containerdImageName, StaticPodPlan } from "./runtimes/kubelet";
import {
    AddDel, bridgeArgv, cniArgv, kubeletArgv, NODE_BIN_DIR, NODE_SCRIPTS, nodeReadyArgv, podLabels, routeTableArgv, routeTableText, SANDBOX_CONTAINER,
    vxlanArgv, vxlanPeersArgv, vxlanPeersText,
} from "./node-contract";
import { ContainerPlan, INSTANCE_ENV, LABEL_INSTANCE, LABEL_STACK, LabPlan, NodeCniPlan, NodePlan, PodPlan, VxlanPlan } from "./plan";

import { shq } from "./shell";
export { shq };
const words = (ws: readonly string[]) => ws.map(shq).join(" ");
const labelArgs = (labels: Readonly<Record<string, string>>) => Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
const exec = (node: NodePlan, ...ws: string[]) => `docker exec ${shq(node.container)} ${words(ws)}`;
/** `docker exec -i`: the command reads its stdin (a conflist, a manifest, images). */
const execIn = (node: NodePlan, ...ws: string[]) => `docker exec -i ${shq(node.container)} ${words(ws)}`;
/**
 * Undo steps run only while the node runs: a node that is stopped or was removed by hand has nothing of its
 * own state left to undo from outside (its namespaces, veths and routes went with it), so the undo is skipped.
 */
const whileRunning = (node: NodePlan, cmd: string) =>
    `if [ "$(docker inspect -f '{{.State.Running}}' ${shq(node.container)} 2>/dev/null)" = true ]; then ${cmd}; fi`;
const undo = (node: NodePlan, ...ws: string[]) => whileRunning(node, exec(node, ...ws));

export interface CreateDelete { readonly create: string; readonly delete?: string; readonly stdin?: string; }

/** Where the node's PID 1 lives: it installs the lab's node scripts, then runs podnet-node-entrypoint. */
export const NODE_INIT = `${NODE_BIN_DIR}/podnet-node-init`;
const SCRIPT_END = "PODNET_SCRIPT_END";

/**
 * The node's scripts (node/bin/*) as one file, uploaded once per node: the docker provider uploads each file in a
 * request of its own (about 0.1 s each, before the node can start), so one file instead of eight starts every node
 * sooner. Run as PID 1, it writes each script, verbatim, into /usr/local/bin, then execs podnet-node-entrypoint.
 */
export function nodeInit(scripts: readonly NodeScript[]): NodeScript {
    const lines = ["#!/bin/sh",
        "# podnet-lab's node init (PID 1): installs the lab's node scripts (node/bin/* of the repository, verbatim below)",
        "# into /usr/local/bin and its CNI plugin (node/cni/*) into /opt/cni/bin, then runs podnet-node-entrypoint.",
        "# Written by plan/commands.ts nodeInit().",
        "set -eu",
        "install_script() { mkdir -p \"$(dirname \"$1\")\" && cat > \"$1.new\" && chmod 0755 \"$1.new\" && mv -f \"$1.new\" \"$1\"; }"];
    for (const sc of scripts) {
        if (sc.content.split("\n").includes(SCRIPT_END)) { throw new Error(`${sc.file} holds a line '${SCRIPT_END}', which ends a script in the node init`); }
        lines.push("", `install_script ${shq(sc.file)} <<'${SCRIPT_END}'`, sc.content.replace(/\n$/, ""), SCRIPT_END);
    }
    lines.push("",
        "# --update: the lab's ready step found this node running other scripts, copied this file in beside the init and",
        "# runs it so: the scripts above are now installed, and this file becomes the node's init (run at its next start).",
        "if [ \"${1:-}\" = --update ]; then",
        `  [ "$0" = ${NODE_INIT} ] || mv -f "$0" ${NODE_INIT}`,
        `  ${NODE_BIN_DIR}/${NODE_SCRIPTS.agent} restart`,
        "  echo \"podnet: $(hostname): the lab's node scripts were installed in place\"",
        "  exit 0",
        "fi",
        `exec ${NODE_BIN_DIR}/${NODE_SCRIPTS.entrypoint} "$@"`, "");
    return { file: NODE_INIT, content: lines.join("\n") };
}

/**
 * This lab's instance (LABEL_INSTANCE): 16 random hex digits, made once and kept in the state (a Command with no
 * delete and nothing that changes it). Every host-side object of the lab carries it, so what an interrupted `up`
 * of this lab left is told apart from another checkout's lab of the same stack name.
 */
export function instanceCommand(): CreateDelete {
    return { create: "od -An -N8 -tx1 /dev/urandom | tr -d ' \\n'" };
}

/**
 * The LAN: a Docker bridge network with the lab's subnet and gateway; prints the network's id. A Command, not
 * a docker.Network: the provider's network delete sleeps 2 s before it even looks, which was a third of a
 * whole `pulumi destroy`. A network of that name that an interrupted `up` of this lab made (this stack, this
 * instance, read from $PODNET_INSTANCE, and the same subnet, but not in the state) is taken as it is, so the next
 * `up` succeeds; any other network of that name is Docker's to refuse. The delete tolerates a network already gone.
 */
export function lanCommand(lan: LabPlan["lan"], labels: Readonly<Record<string, string>>): CreateDelete {
    const found = `docker network inspect -f '{{index .Labels "${LABEL_STACK}"}} {{index .Labels "${LABEL_INSTANCE}"}} {{range .IPAM.Config}}{{.Subnet}} {{end}}' ` +
        `${shq(lan.network)} 2>/dev/null`;
    return {
        create: `if [ "$(${found})" = "${labels[LABEL_STACK]} $${INSTANCE_ENV} ${lan.cidr} " ]; then docker network inspect -f '{{.Id}}' ${shq(lan.network)}; ` +
            `else docker network create ${words(["--driver", "bridge", "--subnet", lan.cidr, "--gateway", lan.gateway, ...labelArgs(labels)])} ` +
            `--label "${LABEL_INSTANCE}=$${INSTANCE_ENV}" ${shq(lan.network)}; fi`,
        delete: `if docker network inspect ${shq(lan.network)} >/dev/null 2>&1; then docker network rm ${shq(lan.network)} >/dev/null; fi`,
    };
}

/**
 * Removes a container of this name that carries this lab's stack and instance labels, saying so: run just before
 * the docker provider creates a node or the outside host (a `beforeCreate` hook, components/lifecycle.ts). The
 * engine creates a container only when its state does not hold it, so a container of this lab found then is one an
 * interrupted `up` made (killed after Docker created it, before Pulumi recorded it), and would block the create on
 * its name. Any other container of that name (another checkout's lab of the same stack name, or not a lab's at all)
 * is left for Docker to refuse the name.
 */
export function leftoverContainerCommand(name: string, stack: string, instance: string): string {
    return `if [ "$(docker inspect --type container -f '{{index .Config.Labels "${LABEL_STACK}"}} {{index .Config.Labels "${LABEL_INSTANCE}"}}' ${shq(name)} 2>/dev/null)" = ` +
        `${shq(`${stack} ${instance}`)} ]; then docker rm -f -v ${shq(name)} >/dev/null && ` +
        `echo ${shq(`removed the container ${name}, which an interrupted pulumi up left (it carries this lab's labels ${LABEL_STACK}=${stack} and ${LABEL_INSTANCE}=${instance}, and the stack's state does not hold it)`)}; fi`;
}

/**
 * Waits until the node's inner dockerd answers. The node's PID 1 installs the node scripts first (nodeInit), and the
 * docker provider reports the node as started before that is done, so this first waits (10 s at most) for the
 * script to be on the node's PATH (NODE_BIN_DIR; each script appears whole, under its name, once it is executable).
 * The init starts dockerd only after installing every script, so once dockerd answers, all are in.
 */
export function nodeReadyCommand(node: NodePlan, init: NodeInitUpload): CreateDelete {
    return {
        create: withCurrentInit(node.container, init, `for i in $(seq 100); do command -v ${NODE_SCRIPTS.ready} >/dev/null && exec ${words(nodeReadyArgv(180))}; sleep 0.1; done; ` +
            "echo \"$(hostname): the node init did not install the node scripts within 10s\" >&2; exit 1"),
    };
}

/** One create/delete pair from an argv builder that takes add or del. */
const addDel = (node: NodePlan, argv: (verb: AddDel) => string[]): CreateDelete => ({ create: exec(node, ...argv("add")), delete: undo(node, ...argv("del")) });

/**
 * `podnet-bridge add`: the node's bridge with its address and its own MAC (set once, so it never follows its ports),
 * forwarding and the masquerade. Only for a node with a lab bridge (not under docker0).
 */
export function bridgeCommand(node: NodePlan, clusterCidr: string): CreateDelete {
    const bridgeMac = node.bridgeMac;
    if (!bridgeMac) { throw new Error(`${node.name} has no lab bridge (podNetwork docker0): there is no bridge to set up`); }
    return addDel(node, (verb) => bridgeArgv(verb, { bridge: node.bridge, bridgeCidr: node.bridgeCidr, bridgeMac, podCidr: node.podCidr, clusterCidr }));
}

/**
 * The node's routes to its peers' subnets, one table (`podnet-route set`, the table on its stdin): routes missing are
 * added, routes no longer listed are removed, the rest stay as they are, so an update (a node added or removed) runs
 * again and never takes a route down that stays. Each route is recorded on the node, whose agent puts it back after a
 * restart or a deletion by hand. The delete (`podnet-route clear`) removes the table's routes.
 */
export function routesCommand(node: NodePlan): CreateDelete {
    return { create: execIn(node, ...routeTableArgv("set")), stdin: routeTableText(node.routes), delete: undo(node, ...routeTableArgv("clear")) };
}

/** The overlay's VXLAN device on a node (`podnet-vxlan add`: one VNI, UDP 4789, on the node's LAN interface). */
export function vxlanCommand(node: NodePlan, v: VxlanPlan): CreateDelete {
    return addDel(node, (verb) => vxlanArgv(verb, { device: v.device, vni: v.vni, port: v.port, localIp: node.lanIp, vtepIp: v.vtepIp, mac: v.mac, mtu: v.mtu }));
}

/**
 * The node's peers on the overlay, one table (`podnet-vxlan peers set DEV`, the table on its stdin): for each, a route
 * into the device, the peer VTEP's MAC (neighbour) and the LAN IP behind it (FDB); as routesCommand, an update adds and
 * removes only what changed. The delete (`peers clear`) removes the table's peers.
 */
export function vxlanPeersCommand(node: NodePlan, v: VxlanPlan): CreateDelete {
    return { create: execIn(node, ...vxlanPeersArgv("set", v.device)), stdin: vxlanPeersText(node.vxlanPeers), delete: undo(node, ...vxlanPeersArgv("clear", v.device)) };
}

/**
 * Like `kind load docker-image` with every image at once: one `docker save | docker load` per node (one transfer,
 * one `docker exec`, whatever the number of images). Prints each image's id inside the node, one line per
 * reference, in the order given.
 */
export function imagesLoadCommand(node: NodePlan, refs: readonly string[]): CreateDelete {
    return {
        create: `docker save ${words(refs)} | docker exec -i ${shq(node.container)} sh -c ` +
            shq(`docker load -q >/dev/null && docker image inspect -f '{{.Id}}' ${words(refs)}`),
    };
}

/** The id of image `index` from imagesLoadCommand's output. */
export function loadedImageId(stdout: string, index: number, ref: string): string {
    const id = stdout.split("\n").map((l) => l.trim()).filter(Boolean)[index];
    if (!id || !/^sha256:[0-9a-f]{64}$/.test(id)) { throw new Error(`the image load printed no id for ${ref} (line ${index + 1}): ${stdout.slice(0, 300)}`); }
    return id;
}

/** Without preloading: the node pulls the image itself; prints the image id inside the node. */
export function imagePullCommand(node: NodePlan, ref: string): CreateDelete {
    return { create: exec(node, "sh", "-c", `docker pull -q ${shq(ref)} >/dev/null && docker image inspect -f '{{.Id}}' ${shq(ref)}`) };
}

/**
 * `docker run -d` of one container inside the node, prefixed by the removal of any container of that name (a
 * replay after a failed `up`, or one whose container is left from before), so the create is safe to replay. Prints the new container's id. The delete removes it.
 */
function containerCommand(node: NodePlan, name: string, runArgs: readonly string[]): CreateDelete {
    const run = ["docker", "run", "-d", "--name", name, ...runArgs];
    return {
        create: exec(node, "sh", "-c", `docker rm -f ${shq(name)} >/dev/null 2>&1; ${words(run)}`),
        // Already gone (a node re-created under it, removed by hand) is not an error.
        delete: undo(node, "sh", "-c", `docker rm -f ${shq(name)} >/dev/null 2>&1 || true`),
    };
}


/**
 * The pod's sandbox: the pause container, whose network namespace starts with `lo` only (`--network none`), for
 * the CNI to wire. Under docker0 (the "before" state) Docker wires it to the node's docker0 itself (`bridge`).
 */
export function sandboxCommand(node: NodePlan, pod: PodPlan, pauseImage: string, labels: Readonly<Record<string, string>>, podNetwork: PodNetwork = "lab"): CreateDelete {
    return containerCommand(node, pod.sandbox, [
        "--hostname", pod.name, "--network", podNetwork === "docker0" ? "bridge" : "none",
        ...labelArgs({ ...labels, ...podLabels(pod.name, SANDBOX_CONTAINER) }),
        pauseImage,
    ]);
}

/**
 * An app container joined to the sandbox's namespace: `--network container:<pause>` (seed 000). Docker resolves
 * the name when the container is created and keeps the sandbox's id (`docker inspect` shows container:<id>).
 * Kubernetes' command/args map to Docker's entrypoint/cmd: the first word of `command` is the entrypoint and
 * the rest of it comes before `args`, so the process runs command ++ args.
 */
export function appCommand(node: NodePlan, pod: PodPlan, c: ContainerPlan, labels: Readonly<Record<string, string>>): CreateDelete {
    const entry = c.entrypoint ?? [];
    return containerCommand(node, c.container, [
        "--network", `container:${pod.sandbox}`,
        ...labelArgs({ ...labels, ...podLabels(pod.name, c.name) }),
        ...c.envs.flatMap((e) => ["-e", e]),
        ...(entry.length ? ["--entrypoint", entry[0]] : []),
        c.runImage,
        ...entry.slice(1),
        ...(c.command ?? []),
    ]);
}

/**
 * The node's CNI configuration: `podnet-cni CONFIG` writes the conflist it reads on stdin to
 * /etc/cni/net.d/10-podnet.conflist (so the preview shows the file's content as the command's stdin). pulumi-command
 * gives the delete the same stdin: `podnet-cni UNCONFIG` removes the file only while it still holds that content.
 */
export function cniConfigCommand(node: NodePlan, cni: NodeCniPlan): CreateDelete {
    return {
        create: execIn(node, ...cniArgv.config()),
        stdin: cni.text,
        delete: whileRunning(node, execIn(node, ...cniArgv.unconfig())),
    };
}

/**
 * The pod's network, as the runtime sets it up for a new sandbox: `podnet-cni ADD POD SANDBOX_ID` runs the node's
 * CNI configuration (each plugin's ADD with CNI_CONTAINERID=SANDBOX_ID, CNI_NETNS the sandbox's namespace,
 * CNI_IFNAME=eth0 and the pod's K8S_* CNI_ARGS) and prints the result (JSON, with the pod IP); DEL runs the
 * plugins' DEL, which releases the IP. `sandboxId` is the pause container's full id inside the node.
 */
export function cniCommand(node: NodePlan, pod: PodPlan, sandboxId: string, podNetwork: PodNetwork = "lab"): CreateDelete {
    if (podNetwork === "docker0") {
        // No CNI: Docker gave the sandbox its docker0 address. This only names the namespace after the pod (so the
        // cockpit and `ip netns list` find it) and reports Docker's address in the same shape as the CNI result.
        return {
            create: exec(node, ...cniArgv.docker0(pod.name, sandboxId)),
            delete: undo(node, ...cniArgv.unname(pod.name)),
        };
    }
    return {
        create: exec(node, ...cniArgv.add(pod.name, sandboxId)),
        delete: undo(node, ...cniArgv.del(pod.name, sandboxId)),
    };
}

/** The pod IP from a CNI ADD result (its `ips[0].address`, e.g. 10.244.1.2/24 -> 10.244.1.2). */
export function podIpFromCniResult(stdout: string): string {
    let result: { ips?: { address?: string }[] };
    try { result = JSON.parse(stdout) as typeof result; }
    catch { throw new Error(`podnet-cni ADD printed no CNI result (JSON): ${stdout.slice(0, 200)}`); }
    const address = result.ips?.[0]?.address;
    if (!address || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(address)) { throw new Error(`podnet-cni ADD result has no ips[0].address: ${stdout.slice(0, 200)}`); }
    return address.split("/")[0];
}

/** Kubelet mode: waits until the node's kubelet answers on /healthz; prints its version and containerd's. */
export function kubeletReadyCommand(node: NodePlan): CreateDelete {
    return { create: exec(node, ...kubeletArgv.ready(120)) };
}

/**
 * Kubelet mode, like `kind load docker-image`: every image in one `docker save`, imported into containerd's k8s.io
 * namespace (where the CRI finds them). Prints each image's digest inside the node, one line per reference, in order.
 */
export function imagesImportCommand(node: NodePlan, refs: readonly string[]): CreateDelete {
    return { create: `docker save ${words(refs)} | ${execIn(node, ...kubeletArgv.images(refs.map(containerdImageName)))}` };
}

/**
 * Kubelet mode: the pod as a static pod. The create writes the manifest (its stdin, so the preview shows it) into
 * the node's /etc/kubernetes/manifests, where kubelet picks it up; it waits for the pod's CNI ADD, which containerd
 * runs, and prints that result (with the pod IP). The delete removes the manifest and waits for the CNI DEL.
 */
export function staticPodCommand(node: NodePlan, pod: PodPlan, sp: StaticPodPlan): CreateDelete {
    return {
        create: execIn(node, ...kubeletArgv.podAdd(pod.name, node.name)),
        stdin: sp.text,
        delete: undo(node, ...kubeletArgv.podDel(pod.name, node.name)),
    };
}
