// The engine stand-in: Pulumi mocks whose newResource APPLIES each resource to a real Docker engine and returns
// real state, so index.ts runs its own resources, with their exact inputs, where no Pulumi CLI can run.
// It implements only what this program declares and throws on any other type, input or resource option, so it
// can never silently skip what a real provider would do. It is not Pulumi: no diffs, no refresh, no replacement.
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import * as tar from "tar-stream";
import { projectRoot } from "../../plan/load";
import { LifecycleOptions, lifecycleOf, tapRegistrations, urnName } from "../monitor";
import { clusterApply, dockerClient, EngineState, isNotFound, labelsOf, Log, plain, renderedPath, runShell, StateEntry } from "./state";

const COMPONENT = /^podnet-lab:index:/;

/** Keys the stand-in implements, per type. Any other input is an error. */
const SUPPORTED: Record<string, readonly string[]> = {
    "docker:index/remoteImage:RemoteImage": ["name", "keepLocally"],
    "docker:index/container:Container": [
        "name", "hostname", "image", "entrypoints", "command", "envs", "labels", "networksAdvanced", "networkMode",
        "ports", "volumes", "uploads", "mustRun", "privileged", "capabilities", "securityOpts", "cgroupnsMode", "sysctls",
        "restart", "init", "devices", "tmpfs",
    ],
    "command:local:Command": ["create", "delete", "environment", "triggers", "logging", "stdin"],
    // deleteUnreachable only shapes a refresh, which the stand-in never does. kubeconfig: cluster mode's provider,
    // whose resources the stand-in applies to the lab's API server with kubectl.
    "pulumi:providers:kubernetes": ["renderYamlToDirectory", "deleteUnreachable", "version", "kubeconfig"],
    "kubernetes:core/v1:Pod": ["apiVersion", "kind", "metadata", "spec"],
    "kubernetes:core/v1:Service": ["apiVersion", "kind", "metadata", "spec"],
    // The cluster DNS's objects (cluster mode), applied to the lab's API server as the provider applies them.
    "kubernetes:core/v1:ServiceAccount": ["apiVersion", "kind", "metadata"],
    "kubernetes:core/v1:ConfigMap": ["apiVersion", "kind", "metadata", "data"],
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": ["apiVersion", "kind", "metadata", "rules"],
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": ["apiVersion", "kind", "metadata", "roleRef", "subjects"],
    "kubernetes:apps/v1:Deployment": ["apiVersion", "kind", "metadata", "spec"],
};

/**
 * Resource options: `deletedWith` is implemented (destroy skips what goes with a resource destroyed in the same
 * run); `deleteBeforeReplace` and `replaceOnChanges` only shape replacements, which the stand-in never does
 * (every run creates from nothing), so they are accepted and have no effect here; so is the leftover-container
 * hook (`beforeCreate`), which only removes what an interrupted real `up` left, and `e2e:up` starts from a clean
 * slate (it refuses to run over a lab that is up, and .ci/run removes what carries the e2e stack's label); and
 * `ignoreChanges`, which only shapes the diff of an update (a create takes the inputs as given). Any other option
 * that changes what a delete does is refused.
 */
export function checkOptions(name: string, o: LifecycleOptions): void {
    const refused = [
        ...(o.retainOnDelete ? ["retainOnDelete"] : []),
        ...(o.protect ? ["protect"] : []),
    ];
    if (refused.length) { throw new Error(`engine stand-in: ${name}: resource option(s) ${refused.join(", ")} not implemented`); }
}

function checkInputs(type: string, name: string, inputs: Record<string, any>): void {
    const known = SUPPORTED[type];
    if (!known) {
        throw new Error(`engine stand-in: resource type ${type} (${name}) is not implemented; ` +
            (type === "docker:index/image:Image" ? "set podnet-lab:nodeImage to a prebuilt image" : "it would be skipped silently, so it is refused"));
    }
    const unknown = Object.keys(inputs).filter((k) => inputs[k] !== undefined && !known.includes(k));
    if (unknown.length) { throw new Error(`engine stand-in: ${type} ${name}: input(s) ${unknown.join(", ")} not implemented`); }
}

export class EngineStandIn implements pulumi.runtime.Mocks {
    private readonly state: EngineState;
    private readonly docker = dockerClient();
    private saving: Promise<void> = Promise.resolve();
    private inflight = 0;
    private readonly deps = new Map<string, { dependsOn: string[]; deletedWith: string }>();
    private readonly t0 = Date.now();

    constructor(private readonly stateFile: string, stack: string, private readonly log: Log) {
        this.state = { stack, created: [], renderDirs: {} };
    }

    get created(): readonly StateEntry[] { return this.state.created; }

    /**
     * Records each registration's dependencies and `deletedWith`, as the Pulumi engine does from the same request,
     * so destroy can run in parallel in dependency order. Call after setMocks.
     */
    attach(): void {
        tapRegistrations((req) => {
            const urns = new Set<string>(req.getDependenciesList());
            req.getPropertydependenciesMap().forEach((v) => v.getUrnsList().forEach((u) => urns.add(u)));
            if (req.getParent()) { urns.add(req.getParent()); }
            // A provider reference is "<urn>::<id>".
            if (req.getProvider()) { urns.add(req.getProvider().split("::").slice(0, -1).join("::")); }
            const options = lifecycleOf(req);
            checkOptions(req.getName(), options);
            this.deps.set(`${req.getType()}::${req.getName()}`, { dependsOn: [...urns].map(urnName), deletedWith: options.deletedWith });
        });
    }

    private async record(entry: StateEntry): Promise<void> {
        this.state.created.push(entry);
        const text = JSON.stringify(this.state, null, 1);
        this.saving = this.saving.then(() => fs.promises.writeFile(this.stateFile, text, { mode: 0o600 }));
        await this.saving;
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        throw new Error(`engine stand-in: function ${args.token} is not implemented`);
    }

    async newResource(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string | undefined; state: Record<string, any> }> {
        if (COMPONENT.test(args.type)) { return { id: undefined, state: {} }; }
        this.inflight++;
        try { return await this.create(args); } finally { this.inflight--; }
    }

    /** Resolves once no resource has been in flight for a moment (all registrations done). */
    async idle(): Promise<void> {
        for (let quiet = 0; quiet < 10;) {
            await new Promise((r) => setTimeout(r, 20));
            quiet = this.inflight === 0 ? quiet + 1 : 0;
        }
    }

    private async create(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string | undefined; state: Record<string, any> }> {
        const inputs = args.inputs as Record<string, any>;
        checkInputs(args.type, args.name, inputs);
        const provider = args.provider ? args.provider.split("::").pop() ?? "" : "";
        const started = Date.now();
        const { id, outputs } = await this.apply(args.type, args.name, inputs, provider);
        const deps = this.deps.get(`${args.type}::${args.name}`);
        if (!deps) { throw new Error(`engine stand-in: no dependencies recorded for ${args.name}; call attach() after setMocks`); }
        await this.record({ type: args.type, name: args.name, id, provider, inputs, outputs, ...deps });
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        const at = ((Date.now() - this.t0) / 1000).toFixed(1);
        this.log(`[${at.padStart(5)}s] + ${args.type.replace(/^.*:/, "").padEnd(12)} ${args.name.padEnd(36)} took ${secs.padStart(4)}s`);
        return { id, state: { ...inputs, ...outputs } };
    }

    private async apply(type: string, name: string, inputs: Record<string, any>, provider: string): Promise<{ id: string; outputs: Record<string, any> }> {
        switch (type) {
            case "pulumi:providers:kubernetes": {
                const id = randomUUID();
                // (the render-only provider says kubeconfig "": no cluster)
                if (plain(inputs.kubeconfig)) {
                    if (inputs.renderYamlToDirectory !== undefined) { throw new Error(`engine stand-in: provider ${name} has both a kubeconfig and renderYamlToDirectory`); }
                    (this.state.clusters ??= {})[id] = plain(inputs.kubeconfig);
                } else {
                    this.state.renderDirs[id] = inputs.renderYamlToDirectory;
                }
                return { id, outputs: {} };
            }
            case "kubernetes:core/v1:Pod": {
                const kubeconfig = this.state.clusters?.[provider];
                if (kubeconfig !== undefined) {
                    // As the provider does: apply, wait for the pod to be Ready, and return the live object.
                    const live = await clusterApply(kubeconfig, { apiVersion: inputs.apiVersion, kind: inputs.kind, metadata: inputs.metadata, spec: inputs.spec });
                    return { id: `${live.metadata.namespace}/${live.metadata.name}`, outputs: { metadata: live.metadata, spec: live.spec, status: live.status } };
                }
                const dir = this.state.renderDirs[provider];
                if (!dir) { throw new Error(`engine stand-in: Pod ${name} needs a render-only kubernetes provider`); }
                const file = renderedPath(dir, inputs);
                fs.mkdirSync(path.dirname(file), { recursive: true });
                const manifest = { apiVersion: inputs.apiVersion, kind: inputs.kind, metadata: inputs.metadata, spec: inputs.spec };
                fs.writeFileSync(file, yaml.dump(manifest, { noRefs: true }));
                return { id: `default/${inputs.metadata.name}`, outputs: {} };
            }
            case "kubernetes:core/v1:Service":
            case "kubernetes:core/v1:ServiceAccount":
            case "kubernetes:core/v1:ConfigMap":
            case "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole":
            case "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding":
            case "kubernetes:apps/v1:Deployment": {
                const kubeconfig = this.state.clusters?.[provider];
                if (kubeconfig === undefined) { throw new Error(`engine stand-in: ${type} ${name} needs a cluster's kubernetes provider`); }
                // As the provider does: apply, wait as it waits (a Service until it has endpoints unless
                // pulumi.com/skipAwait, a Deployment until it is rolled out), return the live object.
                const object = Object.fromEntries(Object.entries(inputs).filter(([k]) => ["apiVersion", "kind", "metadata", "spec", "data", "rules", "roleRef", "subjects"].includes(k)));
                const live = await clusterApply(kubeconfig, object);
                return { id: `${live.metadata.namespace ?? ""}/${live.metadata.name}`, outputs: { metadata: live.metadata, spec: live.spec, status: live.status } };
            }
            case "docker:index/remoteImage:RemoteImage": {
                try {
                    const info = await this.docker.getImage(inputs.name).inspect();
                    return { id: `${info.Id}${inputs.name}`, outputs: { imageId: info.Id, repoDigest: info.RepoDigests?.[0] ?? "" } };
                } catch (e) {
                    if (isNotFound(e)) {
                        throw new Error(`engine stand-in: image ${inputs.name} is not on the engine and no registry is reachable here; build it (tests/e2e/images/build.sh) or map it with podnet-lab:imageSubstitutions`);
                    }
                    throw e;
                }
            }
            case "docker:index/container:Container":
                if (provider) { throw new Error(`engine stand-in: ${name}: containers through an explicit docker provider are not implemented`); }
                return this.createContainer(name, inputs);
            case "command:local:Command": {
                const env = inputs.environment ?? {};
                const out = inputs.create ? await runShell(inputs.create, env, inputs.stdin) : { stdout: "", stderr: "" };
                return { id: randomUUID(), outputs: out };
            }
        }
        throw new Error(`engine stand-in: ${type} is not implemented`);
    }

    private async createContainer(name: string, inputs: Record<string, any>): Promise<{ id: string; outputs: Record<string, any> }> {
        const docker = this.docker;
        const nets: any[] = inputs.networksAdvanced ?? [];
        if (nets.length > 1) { throw new Error(`engine stand-in: ${name}: more than one networksAdvanced entry is not implemented`); }
        if (nets.length && inputs.networkMode) { throw new Error(`engine stand-in: ${name}: networksAdvanced with networkMode is not implemented`); }
        const ports: any[] = inputs.ports ?? [];
        const portKey = (p: any) => `${p.internal}/${(p.protocol ?? "tcp").toLowerCase()}`;
        const binds: string[] = [];
        const mounts: Docker.MountConfig = [];
        const anonymous: Record<string, object> = {};
        for (const v of inputs.volumes ?? []) {
            if (v.volumeName) { mounts.push({ Type: "volume", Source: v.volumeName, Target: v.containerPath, ReadOnly: !!v.readOnly }); }
            else if (v.hostPath) { binds.push(`${v.hostPath}:${v.containerPath}:${v.readOnly ? "ro" : "rw"}`); }
            else if (v.containerPath && Object.keys(v).length === 1) { anonymous[v.containerPath] = {}; }
            else { throw new Error(`engine stand-in: ${name}: volume ${JSON.stringify(v)} is not implemented`); }
        }
        const created = await docker.createContainer({
            name: inputs.name,
            Image: inputs.image,
            Hostname: inputs.hostname,
            Entrypoint: inputs.entrypoints,
            Cmd: inputs.command,
            Env: inputs.envs,
            Labels: labelsOf(inputs.labels),
            Volumes: Object.keys(anonymous).length ? anonymous : undefined,
            ExposedPorts: ports.length ? Object.fromEntries(ports.map((p) => [portKey(p), {}])) : undefined,
            HostConfig: {
                NetworkMode: inputs.networkMode ?? (nets.length ? nets[0].name : undefined),
                PortBindings: ports.length ? Object.fromEntries(ports.map((p) => [portKey(p), [{ HostIp: p.ip ?? "", HostPort: p.external ? String(p.external) : "" }]])) : undefined,
                Binds: binds.length ? binds : undefined,
                Mounts: mounts.length ? mounts : undefined,
                Privileged: !!inputs.privileged,
                CapAdd: inputs.capabilities?.adds,
                CapDrop: inputs.capabilities?.drops,
                SecurityOpt: inputs.securityOpts,
                CgroupnsMode: inputs.cgroupnsMode,
                Sysctls: inputs.sysctls,
                RestartPolicy: inputs.restart ? { Name: inputs.restart } : undefined,
                Init: inputs.init,
                // As the provider maps them: the container path defaults to the host's, permissions to rwm.
                Devices: inputs.devices?.map((d: any) => ({ PathOnHost: d.hostPath, PathInContainer: d.containerPath ?? d.hostPath, CgroupPermissions: d.permissions ?? "rwm" })),
                Tmpfs: inputs.tmpfs,
            } as Docker.HostConfig,
            NetworkingConfig: nets.length
                ? { EndpointsConfig: { [nets[0].name]: { IPAMConfig: { IPv4Address: nets[0].ipv4Address } } } }
                : undefined,
        });
        // Uploads go in before the container starts, as the provider does (one tar per file, extracted at /).
        // `source` is a host path, relative to the project folder (where Pulumi runs the providers).
        for (const u of inputs.uploads ?? []) {
            const content = u.content ?? (u.source !== undefined ? fs.readFileSync(path.resolve(projectRoot(), u.source), "utf8") : undefined);
            if (content === undefined) { throw new Error(`engine stand-in: ${name}: upload of ${u.file} without content or source is not implemented`); }
            const pack = tar.pack();
            pack.entry({ name: u.file, mode: u.executable ? 0o744 : 0o644 }, content);
            pack.finalize();
            await created.putArchive(pack as unknown as NodeJS.ReadableStream, { path: "/" });
        }
        await created.start();
        const info = await created.inspect();
        if (inputs.mustRun && !info.State.Running) {
            const logs = await created.logs({ stdout: true, stderr: true, tail: 20 });
            throw new Error(`engine stand-in: container ${inputs.name} exited right after start:\n${logs.toString()}`);
        }
        return { id: created.id, outputs: { name: info.Name.replace(/^\//, "") } };
    }
}
