// One tap on the mock monitor's resource registrations, for what MockResourceArgs leave out (parent,
// dependencies, resource options).
import * as pulumi from "@pulumi/pulumi";

export interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getProvider(): string;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(f: (v: { getUrnsList(): string[] }) => void): void };
    getDeletebeforereplace(): boolean;
    getReplaceonchangesList(): string[];
    getDeletedwith(): string;
    getRetainondelete(): boolean;
    getProtect(): boolean;
    getIgnorechangesList(): string[];
    getHooks(): { getBeforeCreateList(): string[] } | undefined;
    getAdditionalsecretoutputsList(): string[];
}

/** The resource options a registration carried that change what update, replace and destroy do. */
export interface LifecycleOptions {
    readonly deleteBeforeReplace: boolean;
    readonly replaceOnChanges: readonly string[];
    /** Name of the resource this one is deleted with ("" for none). */
    readonly deletedWith: string;
    readonly retainOnDelete: boolean;
    readonly protect: boolean;
    readonly ignoreChanges: readonly string[];
    /** Names of the hooks the engine runs before it creates the resource. */
    readonly beforeCreate: readonly string[];
}

/** The name part of a URN ("urn:pulumi:stack::project::type::name"). */
export const urnName = (urn: string): string => urn.split("::").pop() ?? urn;

export function lifecycleOf(req: RegisterRequest): LifecycleOptions {
    return {
        deleteBeforeReplace: req.getDeletebeforereplace(),
        replaceOnChanges: req.getReplaceonchangesList(),
        deletedWith: req.getDeletedwith() ? urnName(req.getDeletedwith()) : "",
        retainOnDelete: !!req.getRetainondelete(),
        protect: req.getProtect(),
        ignoreChanges: req.getIgnorechangesList(),
        beforeCreate: req.getHooks()?.getBeforeCreateList() ?? [],
    };
}

/**
 * The SDK's mock monitor has no RegisterResourceHook (SDK 3.248): this accepts each hook's registration, as the
 * engine does, so a program that declares hooks runs under mocks; the hooks never run here (no engine creates
 * anything for them to precede). Call after setMocks.
 */
export function acceptResourceHooks(): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResourceHook?: (req: unknown, cb: (err: null, res: unknown) => void) => void };
    monitor.registerResourceHook = (_req, cb) => cb(null, {});
}

/** Calls `seen` with every registration request, before the mocks' newResource runs for it. Call after setMocks. */
export function tapRegistrations(seen: (req: RegisterRequest) => void): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): void };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => { seen(req); register(req, cb); };
}
