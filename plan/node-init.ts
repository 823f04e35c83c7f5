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
 * every script in place (each one whole, by rename), makes itself the container's init and restarts the node agent;
 * then it checks again (now the hash matches) and waits.
 */
export function withCurrentInit(container: string, init: NodeInitUpload, wait: string): string {
    const inside = (script: string) => `docker exec ${shq(container)} sh -c ${shq(script)}`;
    // PODNET_ROOT: unset on a node; the tests' fake node sets it (tests/fake-node.ts).
    const file = `"\${PODNET_ROOT:-}${init.file}"`;
    const check = `[ "$(sha256sum < ${file} | cut -d' ' -f1)" = ${init.sourceHash} ] || exit ${STALE_INIT}; ${wait}`;
    return `for try in 1 2; do ${inside(check)} && exit 0; rc=$?; [ $rc -eq ${STALE_INIT} ] || exit $rc; ` +
        `if [ $try -eq 2 ]; then echo ${shq(`${container}: its node scripts are still not the lab's current ones after installing them in place (${init.file})`)} >&2; exit 1; fi; ` +
        `echo ${shq(`${container}: its node scripts are not the lab's current ones: installing them in place`)} >&2; ` +
        `docker cp ${shq(init.source)} ${shq(`${container}:${init.file}.new`)} && ${inside(`sh ${file.replace(/"$/, '.new"')} --update`)} >&2 || exit 1; done`;
}
