// One tap on the mock monitor's resource registrations, for what MockResourceArgs leave out (parent, dependencies).
import * as pulumi from "@pulumi/pulumi";

export interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getProvider(): string;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(f: (v: { getUrnsList(): string[] }) => void): void };
}

/** The name part of a URN ("urn:pulumi:stack::project::type::name"). */
export const urnName = (urn: string): string => urn.split("::").pop() ?? urn;

/** Calls `seen` with every registration request, before the mocks' newResource runs for it. Call after setMocks. */
export function tapRegistrations(seen: (req: RegisterRequest) => void): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): void };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => { seen(req); register(req, cb); };
}
