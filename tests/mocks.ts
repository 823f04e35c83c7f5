// Recording Pulumi mocks: every newResource is recorded; an unknown resource type or call throws.
import * as pulumi from "@pulumi/pulumi";

export interface Recorded {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
    readonly provider?: string;
    readonly id: string;
}

/** Fake client credentials the mocked `<node>-ready` command prints (the real one prints the node's TLS client bundle). */
export const FAKE_CREDS = { ca: "CA-PEM", cert: "CERT-PEM", key: "KEY-PEM" };

/** Returns plausible provider outputs for the types this program declares. */
const KNOWN: Record<string, (r: Omit<Recorded, "id">, id: string) => Record<string, any>> = {
    "podnet-lab:index:Lab": () => ({}),
    "podnet-lab:index:Node": () => ({}),
    "podnet-lab:index:Pod": () => ({}),
    "podnet-lab:index:RenderedManifests": () => ({}),
    "docker:index/network:Network": () => ({}),
    "docker:index/volume:Volume": () => ({}),
    "docker:index/container:Container": () => ({}),
    "docker:index/image:Image": (r) => ({ imageName: r.inputs.imageName }),
    "docker:index/remoteImage:RemoteImage": (r) => ({ imageId: `sha256:host-${r.inputs.name}` }),
    "pulumi:providers:docker": () => ({}),
    "pulumi:providers:kubernetes": () => ({}),
    "kubernetes:core/v1:Pod": () => ({}),
    "command:local:Command": (r) => ({
        stdout: r.name.endsWith("-ready") ? JSON.stringify(FAKE_CREDS) : `sha256:loaded-by-${r.name}`,
        stderr: "",
    }),
};

export class RecordingMocks implements pulumi.runtime.Mocks {
    public readonly resources: Recorded[] = [];

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, any> } {
        const extra = KNOWN[args.type];
        if (!extra) { throw new Error(`mocks: unexpected resource type ${args.type} (${args.name})`); }
        const id = `${args.name}-id`;
        const rec = { type: args.type, name: args.name, inputs: args.inputs, provider: args.provider, id };
        this.resources.push(rec);
        return { id: args.custom === false ? undefined : id, state: { ...args.inputs, ...extra(rec, id) } };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        throw new Error(`mocks: unexpected call ${args.token}`);
    }

    ofType(type: string): Recorded[] { return this.resources.filter((r) => r.type === type); }
    named(name: string): Recorded {
        const found = this.resources.filter((r) => r.name === name);
        if (found.length !== 1) { throw new Error(`mocks: ${found.length} resources named ${name}`); }
        return found[0];
    }
}
