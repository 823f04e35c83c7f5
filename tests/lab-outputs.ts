// Stack outputs of a lab of any size, as the program declares them (the e2e stack's addresses): fixed inputs for the
// cockpit's renderers and the live page's server, at 3, 6 and 10 nodes, routed or overlay.
import { LabOutputs } from "../plan/outputs";

export function labOutputs(n: number, podNetwork: "lab" | "vxlan" = "lab"): LabOutputs {
    const nodes = Array.from({ length: n }, (_, k) => k + 1);
    const lanIp = (i: number) => `192.168.1.${10 + i}`;
    return {
        lan: { network: "podnet-e2e-lan", cidr: "192.168.1.0/24", gateway: "192.168.1.1" },
        outside: { name: "outside", container: "podnet-e2e-outside", ip: "192.168.1.254" },
        clusterCidr: "10.244.0.0/16",
        podNetwork,
        cniPlugin: "podnet",
        podRuntime: "docker",
        nodes: nodes.map((i) => ({
            name: `node${i}`, container: `podnet-e2e-node${i}`, lanIp: lanIp(i), podCidr: `10.244.${i}.0/24`, bridge: "v-net-0", bridgeIp: `10.244.${i}.1`,
            routes: nodes.filter((j) => j !== i).map((j) => podNetwork === "vxlan"
                ? { to: `10.244.${j}.0/24`, via: `10.244.${j}.0`, dev: "vxlan.1", remote: lanIp(j) }
                : { to: `10.244.${j}.0/24`, via: lanIp(j) }),
            ...(podNetwork === "vxlan" ? { vxlan: { device: "vxlan.1", vni: 1, port: 4789, vtepIp: `10.244.${i}.0`, mac: `0a:58:0a:f4:0${i % 10}:00`, mtu: 1450 } } : {}),
            podMtu: podNetwork === "vxlan" ? 1450 : 1500,
        })),
        pods: [
            { name: "pod-net-test", node: "node1", ip: "10.244.1.2", sandbox: "k8s_POD_pod-net-test", runtime: "docker", containers: [{ name: "nginx", container: "k8s_nginx_pod-net-test", image: "nginx:1.27" }] },
            ...nodes.map((i) => ({ name: `web-${i}`, node: `node${i}`, ip: `10.244.${i}.${i === 1 ? 3 : 2}`, sandbox: `k8s_POD_web-${i}`, runtime: "docker" as const,
                containers: [{ name: "nginx", container: `k8s_nginx_web-${i}`, image: "nginx:1.27" }] })),
        ],
        services: [],
        pendingPods: [],
        diagram: "(the picture; the cockpit draws its own)",
        renderedManifests: "rendered/e2e",
    };
}
