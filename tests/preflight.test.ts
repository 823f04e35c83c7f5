// The preflight: the LAN checked against the host's Docker networks and routes, before anything is created.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { checkHost, HostFacts, parseProcRoute } from "../plan/preflight";
import { DEV_CONFIG, runProgram } from "./harness";

const lan = { network: "podnet-dev-lan", cidr: "192.168.1.0/24", gateway: "192.168.1.1" };
const defaultRoute = { destination: "0.0.0.0/0", device: "eth0" };
const docker0 = { name: "bridge", subnets: ["172.17.0.0/16"] };

describe("preflight: the LAN against the host (pure)", () => {
    const table: [string, HostFacts, string[]][] = [
        ["a quiet host", { networks: [docker0], routes: [defaultRoute, { destination: "172.17.0.0/16", device: "docker0" }] }, []],
        ["the lab's own LAN from an earlier up", { networks: [docker0, { name: "podnet-dev-lan", subnets: ["192.168.1.0/24"] }], routes: [defaultRoute] }, []],
        ["another Docker network on the range", { networks: [{ name: "home", subnets: ["192.168.0.0/16"] }], routes: [] },
            ["config podnet-lab:lanCidr 192.168.1.0/24 overlaps the Docker network 'home' (192.168.0.0/16)", "docker network ls"]],
        ["the host's own LAN", { networks: [docker0], routes: [defaultRoute, { destination: "192.168.1.0/24", device: "wlan0" }] },
            ["config podnet-lab:lanCidr 192.168.1.0/24 overlaps the host's route to 192.168.1.0/24 (dev wlan0)", "moby#21141"]],
        ["a narrower host route inside the LAN", { networks: [], routes: [{ destination: "192.168.1.128/25", device: "tun0" }] },
            ["overlaps the host's route to 192.168.1.128/25 (dev tun0)"]],
        ["an IPv6 Docker subnet is not this check's", { networks: [{ name: "v6", subnets: ["fd00::/64"] }], routes: [] }, []],
    ];
    for (const [what, facts, words] of table) {
        it(what, () => {
            const r = checkHost({ lan }, facts);
            assert.equal(r.problems.length, words.length ? 1 : 0, r.problems.join("\n"));
            for (const w of words) { assert.ok(r.problems[0].includes(w), `lacks '${w}': ${r.problems[0]}`); }
            assert.deepEqual(r.unchecked, []);
        });
    }

    it("what could not be read is said, not guessed", () => {
        const r = checkHost({ lan }, { networks: { unknown: "docker network ls failed: no engine" }, routes: { unknown: "no /proc/net/route" } });
        assert.deepEqual(r, { problems: [], unchecked: ["Docker networks (docker network ls failed: no engine)", "host routes (no /proc/net/route)"] });
    });

    it("reads /proc/net/route (little-endian hex)", () => {
        const text = [
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
            "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
            "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
            "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
        ].join("\n");
        assert.deepEqual(parseProcRoute(text), [
            { destination: "0.0.0.0/0", device: "eth0" }, { destination: "172.17.0.0/16", device: "docker0" }, { destination: "192.0.2.0/24", device: "eth0" },
        ]);
    });
});

describe("preflight: through the whole program", () => {
    it("a LAN on another Docker network's range is refused naming the key and the network; nothing is declared", async () => {
        const facts: HostFacts = { networks: [{ name: "home-lab", subnets: ["192.168.1.0/24"] }], routes: [defaultRoute] };
        await assert.rejects(runProgram(DEV_CONFIG, "dev", facts), (e: unknown) => {
            assert.ok(pulumi.RunError.isInstance(e), `not a RunError: ${e}`);
            assert.match((e as Error).message, /config podnet-lab:lanCidr 192\.168\.1\.0\/24 overlaps the Docker network 'home-lab'/);
            assert.equal((e as { declared?: number }).declared, 0);
            return true;
        });
    });
});
