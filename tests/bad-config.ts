// Bad config values shared by the plan table tests and the whole-program tests.

/** Each bad input, and the words its refusal must contain (field and value). */
export const BAD_CONFIG: [string, Record<string, string>, string[]][] = [
    ["clusterCidr not a CIDR", { clusterCidr: "10.244.0.0" }, ["podnet-lab:clusterCidr", "'10.244.0.0'", "IPv4 CIDR"]],
    ["clusterCidr with a bad octet", { clusterCidr: "10.300.0.0/16" }, ["podnet-lab:clusterCidr", "10.300.0.0/16"]],
    ["clusterCidr with host bits", { clusterCidr: "10.244.1.0/16" }, ["podnet-lab:clusterCidr", "host bits", "10.244.0.0/16"]],
    ["lanCidr not a CIDR", { lanCidr: "lan" }, ["podnet-lab:lanCidr", "'lan'"]],
    ["LAN overlapping the cluster range", { lanCidr: "10.244.5.0/24", firstNodeIp: "10.244.5.11" }, ["podnet-lab:lanCidr 10.244.5.0/24 overlaps", "podnet-lab:clusterCidr 10.244.0.0/16"]],
    ["cluster range too small for N", { clusterCidr: "10.244.0.0/20", nodeCount: "20" }, ["room for 15 node subnets of /24", "podnet-lab:nodeCount is 20"]],
    ["node subnet not smaller than the cluster", { nodeSubnetPrefix: "16" }, ["podnet-lab:nodeSubnetPrefix is 16", "from 17 to 30"]],
    ["nodeCount zero", { nodeCount: "0" }, ["podnet-lab:nodeCount is '0'", "from 1 to 254"]],
    ["nodeCount not a number", { nodeCount: "three" }, ["podnet-lab:nodeCount is 'three'"]],
    ["first node IP outside the LAN", { firstNodeIp: "192.168.2.11" }, ["podnet-lab:firstNodeIp 192.168.2.11", "inside 192.168.1.0/24"]],
    ["first node IP is the gateway", { firstNodeIp: "192.168.1.1" }, ["podnet-lab:firstNodeIp 192.168.1.1", "after its gateway 192.168.1.1"]],
    ["nodes run past the LAN's end", { firstNodeIp: "192.168.1.250", nodeCount: "10" }, ["podnet-lab:firstNodeIp 192.168.1.250", "192.168.1.250..192.168.2.3"]],
    ["bridge name too long", { bridgeName: "a-very-long-bridge-name" }, ["podnet-lab:bridgeName is 'a-very-long-bridge-name'", "1 to 15"]],
    ["unknown security mode", { nodeSecurity: "root" }, ["podnet-lab:nodeSecurity is 'root'", "'privileged'", "'capabilities'"]],
    ["preloadImages not a boolean", { preloadImages: "yes" }, ["podnet-lab:preloadImages is 'yes'", "true or false"]],
    ["pause image not an image reference", { pauseImage: "Not An Image" }, ["podnet-lab:pauseImage is 'Not An Image'"]],
    ["substitution to a non-image", { imageSubstitutions: JSON.stringify({ "nginx:1.27": 5 }) }, ["podnet-lab:imageSubstitutions['nginx:1.27'] is 5"]],
    ["substitutions not a map", { imageSubstitutions: "[]" }, ["podnet-lab:imageSubstitutions must be a map"]],
    ["a retired key", { nodeApiPortBase: "23760" }, ["podnet-lab:nodeApiPortBase is no longer used", "pulumi config rm podnet-lab:nodeApiPortBase"]],
    ["unknown key", { nodecount: "3" }, ["podnet-lab:nodecount is not a key", "did you mean podnet-lab:nodeCount"]],
    ["outside host outside the LAN", { outsideHostIp: "10.0.0.5" }, ["podnet-lab:outsideHostIp 10.0.0.5 must be inside 192.168.1.0/24", "not a node's address (192.168.1.11..192.168.1.13)"]],
    ["outside host on a node's address", { outsideHostIp: "192.168.1.12" }, ["podnet-lab:outsideHostIp 192.168.1.12 must be inside"]],
    ["outside host not an IP", { outsideHostIp: "internet" }, ["podnet-lab:outsideHostIp is 'internet', which is not an IPv4 address"]],
    ["pods not a list", { pods: "\"pods\"" }, ["podnet-lab:pods must be a non-empty list"]],
];
