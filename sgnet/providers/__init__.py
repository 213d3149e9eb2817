"""Provider profiles by name."""

from .alibaba import AlibabaProfile
from .huawei import HuaweiProfile

PROFILES = {"huawei": HuaweiProfile, "alibaba": AlibabaProfile}


def get_profile(name: str):
    return PROFILES[name]()
