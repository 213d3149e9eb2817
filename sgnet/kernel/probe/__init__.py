"""Real packets from inside lab namespaces (kernel layer): packets (scapy building and
reading) and send (the forked senders). What a probe is and what its answer means are pure:
sgnet.core.probes."""
