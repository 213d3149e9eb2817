"""The imperative shell on one machine: executes what the core planned. guard (the one way
into a lab namespace, the host never touched), netns, rtnl (sgnet's own netlink client), nft
(libnftables), conntrack, build (runs a wiring plan), probe/ (scapy packets and their
senders) and workers (one fork pool, one thread fan-out)."""
