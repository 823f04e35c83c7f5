// The bench's census of a stack's state (bench/census.ts): kinds from names, growth with the node count.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { census, censusTable, growth, resourceKind } from "../bench/census";

const r = (name: string, type = "command:local:Command", create?: string) => ({ urn: `urn:pulumi:s::p::a$b::${name}`, type, inputs: create ? { create } : {} });

describe("the bench's census (bench/census.ts)", () => {
    it("a kind is the name with node and pod names taken out, and the type's last part", () => {
        const pods = ["web-1", "web-10", "pod-net-test"];
        const table: [string, string, string][] = [
            ["node12-route-to-node3", "command:local:Command", "<node>-route-to-<node> (Command)"],
            ["node1-routes", "command:local:Command", "<node>-routes (Command)"],
            ["web-10-pause", "command:local:Command", "<pod>-pause (Command)"],
            ["web-1-nginx", "command:local:Command", "<pod>-nginx (Command)"],
            ["pod-net-test", "podnet-lab:index:Pod", "<pod> (Pod)"],
            ["lan", "command:local:Command", "lan (Command)"],
            ["node3-container", "docker:index/container:Container", "<node>-container (Container)"],
        ];
        for (const [name, type, kind] of table) { assert.equal(resourceKind(r(name, type), pods), kind, name); }
    });

    it("growth: one, per node, per node pair, per pod, or other", () => {
        const at = (...counts: number[]) => [3, 10, 20].map((nodes, i) => ({ nodes, count: counts[i] }));
        assert.equal(growth("lan (Command)", at(1, 1, 1)), "one");
        assert.equal(growth("<node>-routes (Command)", at(3, 10, 20)), "per node (n)");
        assert.equal(growth("<node>-x (Command)", at(6, 20, 40)), "2 per node (2n)");
        assert.equal(growth("<node>-route-to-<node> (Command)", at(6, 90, 380)), "per node pair (n(n-1))");
        assert.equal(growth("<pod>-pause (Command)", at(4, 4, 4)), "per pod");
        assert.equal(growth("odd (Command)", at(1, 2, 7)), "other");
        assert.equal(growth("<node>-routes (Command)", [{ nodes: 3, count: 3 }]), "- (one size: run two or more to see)", "one size cannot tell n from a constant");
    });

    it("counts resources (not the stack), `docker exec`s in the create commands, and the state's size", () => {
        const c = census([r("s", "pulumi:pulumi:Stack"), r("node1-ready", undefined, "docker exec n1 a || docker exec n1 b"), r("lan", undefined, "docker network create x")], [], 2048);
        assert.deepEqual([c.resources, c.dockerExecs, c.stateBytes, [...c.kinds]], [2, 2, 2048, [["<node>-ready (Command)", 1], ["lan (Command)", 1]]]);
        const lines = censusTable([{ nodes: 3, census: c }]);
        assert.match(lines[2], /^\| <node>-ready \(Command\) +\| +1 \| one \|$/);
        assert.match(lines.at(-1)!, /state \(KB\), per resource \(bytes\) +\| +2, 1024 \|/);
    });
});
