"""Provider profiles by name."""

from .huawei import HuaweiProfile

PROFILES = {"huawei": HuaweiProfile}


def get_profile(name: str):
    return PROFILES[name]()
