// The shell commands the lab's Command resources run on the host. Each goes into a node with `docker exec`
// and calls a script the lab uploaded to the node (node/bin/*), so preview shows exactly what will run.
import { NodePlan, PodPlan, RoutePlan } from "./plan";

/** Single-quotes a word for /bin/sh. */
export function shq(word: string): string {
    return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
const exec = (node: NodePlan, ...words: string[]) => `docker exec ${shq(node.container)} ${words.map(shq).join(" ")}`;
/** Undo steps run only while the node exists: a node removed by hand leaves nothing to undo. */
const undo = (node: NodePlan, ...words: string[]) =>
    `if docker inspect ${shq(node.container)} >/dev/null 2>&1; then ${exec(node, ...words)}; fi`;

export interface CreateDelete { readonly create: string; readonly delete?: string; }

/** Waits until the node's inner dockerd answers, then prints its client credentials as JSON (ca, cert, key). */
export function nodeReadyCommand(node: NodePlan): CreateDelete {
    return { create: exec(node, "podnet-node-ready", "180") };
}

export function bridgeCommand(node: NodePlan, clusterCidr: string): CreateDelete {
    return {
        create: exec(node, "podnet-bridge", "add", node.bridge, node.bridgeCidr, node.podCidr, clusterCidr),
        delete: undo(node, "podnet-bridge", "del", node.bridge, node.bridgeCidr, node.podCidr, clusterCidr),
    };
}

export function routeCommand(node: NodePlan, route: RoutePlan): CreateDelete {
    return {
        create: exec(node, "ip", "route", "replace", route.to, "via", route.via),
        delete: undo(node, "ip", "route", "del", route.to, "via", route.via),
    };
}

/** The CNI ADD/DEL for one pod; `sandboxId` is the pause container's id inside the node. */
export function cniCommand(node: NodePlan, pod: PodPlan, sandboxId: string): CreateDelete {
    return {
        create: exec(node, "podnet-cni", "ADD", pod.name, sandboxId, pod.ipCidr, pod.gateway, pod.hostVeth, node.bridge),
        delete: undo(node, "podnet-cni", "DEL", pod.name, pod.hostVeth),
    };
}

/** Like `kind load docker-image`: copies a host image into the node; prints the image id inside the node. */
export function imageLoadCommand(node: NodePlan, ref: string): CreateDelete {
    return {
        create: `docker save ${shq(ref)} | docker exec -i ${shq(node.container)} sh -c ` +
            shq(`docker load -q >/dev/null && docker image inspect -f '{{.Id}}' ${shq(ref)}`),
    };
}
