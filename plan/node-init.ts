// The node init's check, shared by the nodes' and the control plane's ready steps (a leaf module: plan/commands.ts and
// plan/runtimes/cluster.ts both import it).
import type { NodeInitUpload } from "./load";
import { shq } from "./shell";

/** What a container's check exits with when the node init in it is not the lab's current one. */
const STALE_INIT = 86;

/**
 * `wait`, a sh script run inside a container (a node, the control plane) once it is up, preceded by a check that the
 * container runs the lab's current node scripts. The container uploads the node init when it is created; a later change of
 * any script does not re-create it (the container ignores changes of its upload, components/lifecycle.ts: re-created,
 * a node would lose its pods for a changed script). Instead this step runs again whenever the init's hash changes: it
 * finds the container's init different, copies the current one in beside it and runs it with --update, which installs
 * every script in place (each one whole, by rename; the node agent starts again from its new script), then waits again.
 */
export function withCurrentInit(container: string, init: NodeInitUpload, wait: string): string {
    const inside = (script: string) => `docker exec ${shq(container)} sh -c ${shq(script)}`;
    // PODNET_ROOT: unset on a node; the tests' fake node sets it (tests/fake-node.ts).
    const check = `[ "$(sha256sum < "\${PODNET_ROOT:-}${init.file}" | cut -d' ' -f1)" = ${init.sourceHash} ] || exit ${STALE_INIT}; ${wait}`;
    return `${inside(check)} || { rc=$?; [ $rc -eq ${STALE_INIT} ] || exit $rc; ` +
        `echo ${shq(`${container}: its node scripts are not the lab's current ones: installing them in place`)} >&2; ` +
        `docker cp ${shq(init.source)} ${shq(`${container}:${init.file}.new`)} && ${inside(`sh "\${PODNET_ROOT:-}${init.file}.new" --update`)} >&2 && ${inside(wait)}; }`;
}

