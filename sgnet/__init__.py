"""sgnet: cloud security groups on a real Linux datapath."""

__version__ = "0.1.0"
