import "./host/startup";
// podnet-lab: Kubernetes pod networking, built for real on one machine. See README.md.
import * as pulumi from "@pulumi/pulumi";
import { PodnetLab } from "./components/lab";
import * as host from "./host/facts";
import { CONFIG_NAMESPACE } from "./plan/config";
import { LabInputError } from "./plan/errors";
import { LabInputs, loadLab, NodeInitUpload, writeNodeInit } from "./plan/load";
import { checkHost } from "./plan/preflight";

/** This project's config keys, as Pulumi holds them (strings; objects and arrays as JSON). */
function rawConfig(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(`${CONFIG_NAMESPACE}:`)) { out[key.slice(CONFIG_NAMESPACE.length + 1)] = value; }
    }
    return out;
}

let inputs: LabInputs;
try {
    inputs = loadLab(rawConfig(), pulumi.getStack());
    // Preflight, read-only: a LAN on another Docker network's or the host's own range is refused here too.
    const preflight = checkHost(inputs.plan, host.readHostFacts());
    if (preflight.problems.length) { throw new LabInputError(preflight.problems); }
    for (const what of preflight.unchecked) { pulumi.log.warn(`preflight: could not check the LAN against ${what}`); }
} catch (e) {
    // Bad input is the user's to fix: say what is wrong, without a stack trace, before anything is declared.
    if (e instanceof LabInputError) { throw new pulumi.RunError(e.message); }
    throw e;
}

// The node scripts, in one file the node containers upload by reference (not stored in the state).
let nodeInit: NodeInitUpload;
try { nodeInit = writeNodeInit(inputs.root, inputs.scripts); } catch (e) { throw new pulumi.RunError((e as Error).message); }
const lab = new PodnetLab("lab", { plan: inputs.plan, nodeInit, root: inputs.root });

// The stack outputs, as plan/outputs.ts defines them (LabOutputs): only those this lab has. cniPlugin is absent under
// docker0; controlPlane and the admin kubeconfig (a secret: `pulumi stack output kubeconfig --show-secrets`, also
// written to .lab/<stack>/kubeconfig, mode 0600) are there in cluster mode only. Exported one by one, an absent one
// would make every preview warn "Undefined value (...) will not show as a stack output".
export = lab.outputs;
