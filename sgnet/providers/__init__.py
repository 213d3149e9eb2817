"""Provider profiles by name (core: pure). A provider is its own module here and one line of
PROFILES: its groups' meaning (decision lists), defaults, limits, its own group fields and
checks (sgnet.providers.base.Profile)."""

from .alibaba import AlibabaProfile
from .huawei import HuaweiProfile

PROFILES = {"huawei": HuaweiProfile, "alibaba": AlibabaProfile}


def get_profile(name: str):
    return PROFILES[name]()
