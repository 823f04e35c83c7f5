// How each kind of lab resource lives through updates, replacements and destroys. One place, so a refactor
// cannot drop an option silently (tests/program.test.ts asserts them on every resource).
import { execFile } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { leftoverContainerCommand } from "../plan/commands";
import { LABEL_INSTANCE, LABEL_STACK } from "../plan/plan";

/**
 * The hook that runs just before the engine creates a node container or the outside host: it removes a container of
 * the same name that carries this lab's stack and instance labels (an interrupted `up` left it, and the state does
 * not hold it), which would block the create. One per program: PodnetLab makes it and hands it to its nodes.
 */
export function leftoverContainerHook(): pulumi.ResourceHook {
    return new pulumi.ResourceHook("podnet-lab-leftover-container", async (args) => {
        const name = args.newInputs?.name;
        const labels = (args.newInputs?.labels ?? []) as { label?: string; value?: string }[];
        const label = (key: string) => labels.find((l) => l.label === key)?.value;
        const stack = label(LABEL_STACK);
        const instance = label(LABEL_INSTANCE);
        if (typeof name !== "string" || typeof stack !== "string" || typeof instance !== "string") {
            pulumi.log.debug(`${args.name}: no container name, stack or instance label among the inputs; no leftover looked for`);
            return;
        }
        const said = await new Promise<string>((resolve, reject) => {
            execFile("sh", ["-c", leftoverContainerCommand(name, stack, instance)], { encoding: "utf8", timeout: 60_000 }, (err, stdout, stderr) => {
                if (err) { reject(new Error(`${args.name}: could not remove the leftover container ${name}: ${stderr || err.message}`)); } else { resolve(stdout.trim()); }
            });
        });
        if (said) { pulumi.log.info(said); }
    });
}

/**
 * The node containers and the outside host: each has a fixed name and a fixed LAN address, so a replacement
 * can never create the new one beside the old (Pulumi's default, create-before-delete, would fail on the
 * name): delete first. Before each create, `leftovers` (leftoverContainerHook) removes a container of that name an
 * interrupted `up` left behind (docs/healing.md).
 */
export function nodeContainer(leftovers: pulumi.ResourceHook): pulumi.CustomResourceOptions {
    return { deleteBeforeReplace: true, hooks: { beforeCreate: [leftovers] } };
}

/**
 * A node container (and the control plane's): as nodeContainer, and a change of the node scripts it uploads does not
 * replace it (re-created, a node loses its pods, and a script change would take the whole lab down): its ready step
 * installs the current scripts in place instead (plan/node-init.ts withCurrentInit). A container created later uploads
 * the current file (the provider reads `source` when it creates the container).
 */
export function nodeWithScripts(leftovers: pulumi.ResourceHook): pulumi.CustomResourceOptions {
    return { ...nodeContainer(leftovers), ignoreChanges: ["uploads"] };
}

/**
 * A node's table (its routes, its overlay peers: one Command per node whose stdin lists them): a change of the list is
 * an update, which runs `set` again with the new table. `set` adds what is missing and removes what is no longer
 * listed and leaves the rest, so a node joining or leaving the lab never takes a route down that stays (a replacement
 * would clear every route, then set them again). A new node container (the only trigger) replaces it, delete first: the
 * old delete (`clear`) finds nothing of the table on the new container, then `set` runs. It goes with the node.
 */
export function nodeTable(nodeContainer: pulumi.Resource): pulumi.CustomResourceOptions {
    return { deletedWith: nodeContainer, deleteBeforeReplace: true };
}

/**
 * The lab's instance (a Command that prints a random id, plan/commands.ts instanceCommand): made once and kept; no
 * option replaces it, and its inputs never change, so every later `up` reads the same id from the state.
 */
export const INSTANCE: pulumi.CustomResourceOptions = {};

/**
 * The LAN (a `docker network create` Command): fixed name, so delete first; any change replaces it, and the
 * nodes follow (they carry its id in a label).
 */
export const LAN: pulumi.CustomResourceOptions = { deleteBeforeReplace: true, replaceOnChanges: ["*"] };

/**
 * A Command that changes something inside a node (bridge, route, pod sandbox, CNI, app container):
 * - `replaceOnChanges: ["*"]`: pulumi-command runs `create` again on an update, without the `delete` of what the
 *   previous `create` made (a second CNI ADD without DEL, a route left under its old gateway). Replacing runs
 *   the old `delete` with the old inputs, then the new `create`, so every create is paired with its delete.
 * - `deleteBeforeReplace`: the new create makes things with the same names as the old (k8s_POD_<pod>, the
 *   pod's veth, the route to a peer subnet, the bridge); created first, they would be deleted by the old
 *   delete. A pod that moves is deleted on its old node (CNI DEL there) before it is created on the new one.
 * - `deletedWith` the node container: destroying the node destroys all of this with it, so `pulumi destroy`
 *   does not undo, one `docker exec` at a time, what is about to vanish anyway.
 */
export function insideNode(nodeContainer: pulumi.Resource): pulumi.CustomResourceOptions {
    return { deletedWith: nodeContainer, deleteBeforeReplace: true, replaceOnChanges: ["*"] };
}

/**
 * The node's CNI configuration file (a Command): replaced create-before-delete, so the node is never without one
 * (a pod wired or repaired in between would find none); its delete removes the file only while the file still
 * holds the content it was created with (podnet-cni UNCONFIG compares), so the old delete cannot remove the
 * new file. Any change replaces it; it goes with the node.
 */
export function nodeConfigFile(nodeContainer: pulumi.Resource): pulumi.CustomResourceOptions {
    return { deletedWith: nodeContainer, replaceOnChanges: ["*"] };
}

/**
 * A Command that only reads or copies into a node (readiness wait, image load): it has no delete, so a
 * replacement is just a fresh run; it goes with the node.
 */
export function readsNode(nodeContainer: pulumi.Resource): pulumi.CustomResourceOptions {
    return { deletedWith: nodeContainer, replaceOnChanges: ["*"] };
}

/**
 * A rendered manifest: the render-only Kubernetes provider writes a pod to a path made from its name, so a
 * replacement's new file and the old one are the same file. Create-before-delete would write the new file and
 * then delete it as "the old one"; delete first.
 */
export const RENDERED_MANIFEST: pulumi.CustomResourceOptions = { deleteBeforeReplace: true };

/**
 * A Command that writes a file on the host (cluster mode's .lab/<stack>/kubeconfig) and removes it in its delete:
 * the new file has the old one's path, so delete first (create-before-delete would remove the new file); any change
 * replaces it. Not deleted with a container: the file is the host's, so its delete always runs.
 */
export const HOST_FILE: pulumi.CustomResourceOptions = { deleteBeforeReplace: true, replaceOnChanges: ["*"] };

/**
 * Cluster mode: a node's join (its kubelet's identity, its Node object declared), and the control plane's list of the
 * lab's Nodes: nothing to undo, so a replacement is a fresh run (a new node or a new control plane joins again; a
 * new list of nodes deletes the Nodes not in it); they go with the control plane.
 */
export function joinsCluster(controlPlane: pulumi.Resource): pulumi.CustomResourceOptions {
    return { deletedWith: controlPlane, replaceOnChanges: ["*"] };
}

/**
 * Cluster mode: an object the Kubernetes provider applies (a Pod, a Service, the cluster DNS's objects). Its name is
 * fixed, so a replacement deletes the old one first (a pod: kubelet stops it, containerd runs its CNI DEL), then
 * creates the new one. Deleted with the control plane: destroying the whole lab does not delete each object through
 * the API first.
 */
export function clusterObject(controlPlane: pulumi.Resource): pulumi.CustomResourceOptions {
    return { deletedWith: controlPlane, deleteBeforeReplace: true };
}
