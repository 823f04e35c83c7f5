// The Service trace's pure parts (cockpit/service-trace.ts), on text as a lab printed it: the conntrack entry of one
// request, and kube-proxy's rules for web as `iptables-save -t nat` printed them on node1 of the e2e lab.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newConntrack, parseConntrack, parseServiceTarget, sepRules, serviceRules, tcpPort, viaProblem } from "../cockpit/service-trace";

const NAT = `
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-EXT-CDGGSHYLG3RE2FKL -m comment --comment "masquerade traffic for default/web:http external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-CDGGSHYLG3RE2FKL -j KUBE-SVC-CDGGSHYLG3RE2FKL
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport 30080 -j KUBE-EXT-CDGGSHYLG3RE2FKL
-A KUBE-SEP-BHMTFEMIGCOTLSJP -s 10.244.1.3/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-BHMTFEMIGCOTLSJP -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.3:80
-A KUBE-SEP-MODFGJMBXTNUPWPX -s 10.244.2.2/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-MODFGJMBXTNUPWPX -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.2:80
-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y
-A KUBE-SERVICES -d 10.105.167.236/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL
-A KUBE-SERVICES -d 192.168.1.11/32 -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS
-A KUBE-SVC-CDGGSHYLG3RE2FKL ! -s 10.244.0.0/16 -d 10.105.167.236/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.1.3:80" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-BHMTFEMIGCOTLSJP
-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.2.2:80" -j KUBE-SEP-MODFGJMBXTNUPWPX
`;
const CONNTRACK = [
    "ipv4     2 tcp      6 25 TIME_WAIT src=10.244.1.2 dst=10.105.167.236 sport=59628 dport=80 src=10.244.2.2 dst=10.244.1.2 sport=80 dport=59628 [ASSURED] mark=0 zone=0 use=2",
    "ipv4     2 tcp      6 119 TIME_WAIT src=192.168.1.254 dst=192.168.1.11 sport=52122 dport=30080 src=10.244.1.3 dst=10.244.1.1 sport=80 dport=58852 [ASSURED] mark=0 zone=0 use=2",
].join("\n");

describe("the Service trace's target", () => {
    it("svc/NAME[@NODE]: the Service and the node; anything else is no Service target; @NODE only from the outside host", () => {
        assert.deepEqual(["svc/web", "svc/web@node2", "svc/", "web-1", "svc"].map(parseServiceTarget), [{ name: "web" }, { name: "web", via: "node2" }, { name: "" }, undefined, undefined]);
        assert.equal(viaProblem("outside", "outside", { name: "web", via: "node2" }), undefined);
        assert.equal(viaProblem("pod-net-test", "outside", { name: "web" }), undefined);
        assert.match(viaProblem("pod-net-test", "outside", { name: "web", via: "node2" }) ?? "", /^svc\/web@node2: @NODE is for the outside host's .* from pod pod-net-test, trace svc\/web/);
        const udp = { port: 53, targetPort: 53, protocol: "UDP" as const };
        assert.equal(tcpPort({ ports: [udp, { ...udp, protocol: "TCP" as const, port: 9153 }] })?.port, 9153);
        assert.equal(tcpPort({ ports: [udp] }), undefined);
    });
});

describe("the Service trace's reading of conntrack and iptables", () => {
    it("newConntrack: the entry the request made (not there before), with both tuples; none when the request made none", () => {
        const after = parseConntrack(CONNTRACK);
        const before = after.slice(0, 1);
        const c = newConntrack(before, after, "192.168.1.254", "192.168.1.11", 30080);
        assert.deepEqual(c?.orig, { src: "192.168.1.254", dst: "192.168.1.11", sport: "52122", dport: "30080" });
        assert.deepEqual(c?.reply, { src: "10.244.1.3", dst: "10.244.1.1", sport: "80", dport: "58852" }, "DNATed to web-1, masqueraded behind the bridge's address");
        assert.equal(newConntrack(before, after, "10.244.1.2", "10.105.167.236", 80), undefined, "pod-net-test's entry was there before");
        assert.equal(newConntrack([], after, "10.244.1.2", "10.105.167.236", 80)?.reply.src, "10.244.2.2");
        assert.equal(newConntrack([], after, "10.244.1.2", "10.105.167.236", 443), undefined, "another port");
    });

    it("serviceRules: to the ClusterIP, KUBE-SERVICES' rule of web and its KUBE-SVC chain (not the kubernetes Service's)", () => {
        const r = serviceRules(NAT, "web", "http", { ip: "10.105.167.236", port: 80 });
        assert.match(r.entry ?? "", /^-A KUBE-SERVICES -d 10\.105\.167\.236\/32 .*-j KUBE-SVC-CDGGSHYLG3RE2FKL$/);
        assert.equal(r.svcChain, "KUBE-SVC-CDGGSHYLG3RE2FKL");
        assert.equal(r.svcRules.length, 3);
        assert.equal(r.nodePort, undefined);
    });

    it("serviceRules: to a NodePort, KUBE-NODEPORTS' rule, the KUBE-EXT chain (the masquerade mark), then the same KUBE-SVC chain", () => {
        const r = serviceRules(NAT, "web", "http", { ip: "10.105.167.236", port: 80 }, { lanIp: "192.168.1.11", nodePort: 30080 });
        assert.match(r.nodePort ?? "", /--dport 30080 -j KUBE-EXT-CDGGSHYLG3RE2FKL$/);
        assert.deepEqual(r.ext?.map((l) => /-j (\S+)$/.exec(l)?.[1]), ["KUBE-MARK-MASQ", "KUBE-SVC-CDGGSHYLG3RE2FKL"]);
        assert.equal(r.svcChain, "KUBE-SVC-CDGGSHYLG3RE2FKL");
        assert.deepEqual(serviceRules(NAT, "web", "http", { ip: "10.105.167.236", port: 80 }, { lanIp: "192.168.1.11", nodePort: 30099 }).nodePort, undefined);
    });

    it("sepRules: the KUBE-SEP chain that DNATs to the chosen endpoint (its hairpin masquerade, then the DNAT)", () => {
        const r = serviceRules(NAT, "web", "http", { ip: "10.105.167.236", port: 80 });
        const sep = sepRules(NAT, r.svcRules, "10.244.2.2:80");
        assert.equal(sep.length, 2);
        assert.match(sep[1], /-j DNAT --to-destination 10\.244\.2\.2:80$/);
        assert.deepEqual(sepRules(NAT, r.svcRules, "10.244.9.9:80"), []);
    });
});
