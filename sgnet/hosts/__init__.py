"""Where a lab's kernel work runs: driver (one interface; this process, or a host's agent),
transport (local exec or OpenSSH to reach an agent) and agent (`sgnet agent`, one host's
part of a multi-host lab)."""
