"""Hand-written labs (not real samples) where the documents' readings part: the unit and the
kernel tests of sgnet.core.readings share them."""


def huawei_raw(order=None):
    """vm1 in [open, closed]: `open` allows SSH at priority 50, `closed` denies it at
    priority 1. Group by group, `open` (attached first) decides: allow; all rules together,
    the deny at priority 1 comes first: deny. vm2 is in one group: both readings agree."""
    raw = {
        "name": "h13ou", "provider": "huawei",
        "vpcs": [{"name": "v", "cidr": "10.0.0.0/16",
                  "subnets": [{"name": "s", "cidr": "10.0.1.0/24"}]}],
        "security_groups": [
            {"name": "open", "default_rules": False, "rules": [
                {"direction": "ingress", "action": "allow", "priority": 50,
                 "protocol": "tcp", "ports": "22"},
                {"direction": "egress", "action": "allow", "protocol": "all"}]},
            {"name": "closed", "default_rules": False, "rules": [
                {"direction": "ingress", "action": "deny", "priority": 1,
                 "protocol": "tcp", "ports": "22"}]}],
        "instances": [{"name": "vm1", "security_groups": ["open", "closed"]},
                      {"name": "vm2", "security_groups": ["open"]}],
        "externals": [{"name": "net", "ip": "203.0.113.10"}],
    }
    if order:
        raw["settings"] = {"huawei_group_order": order}
    return raw


def alibaba_raw(tcp25=None):
    raw = {
        "name": "h13ou", "provider": "alibaba",
        "vpcs": [{"name": "v", "cidr": "10.0.0.0/16",
                  "subnets": [{"name": "s", "cidr": "10.0.1.0/24"}]}],
        "security_groups": [{"name": "web", "rules": [
            {"direction": "ingress", "action": "allow", "protocol": "tcp", "ports": "25"}]}],
        "instances": [{"name": "vm1", "security_groups": ["web"]},
                      {"name": "vm2", "security_groups": ["web"]}],
        "externals": [{"name": "net", "ip": "203.0.113.10", "ipv6": "2001:db8::10"}],
    }
    if tcp25:
        raw["settings"] = {"alibaba_tcp25_outbound": tcp25}
    return raw
