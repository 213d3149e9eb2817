"""Where the providers' documents disagree (core: pure data, and the few reads of it).

A document that can be read two ways is never settled silently. Each such place is a
Reading: where it changes a verdict, a lab setting (`settings: {<setting>: <value>}`) with
the best-supported value by default, and `explain`, `matrix` and `report` mark a flow whose
verdict would differ under another value (sgnet.core.evaluator judges it both ways); where
it is only a limit, the choice sgnet made, said by lint (notes()). The README's table
"Where the documents disagree" is written from READINGS (readme_table()).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    title: str
    url: str
    says: str  # what the page says, in short


@dataclass(frozen=True)
class Value:
    name: str
    meaning: str
    sources: tuple  # of Source


@dataclass(frozen=True)
class Reading:
    setting: str  # the lab file's settings key; for a limit, the name lint uses
    provider: str
    question: str
    values: tuple  # of Value; the first is the default
    kind: str = "verdict"  # verdict: a setting that changes verdicts | limit: lint says it

    @property
    def default(self) -> str:
        return self.values[0].name

    def value(self, name: str) -> Value:
        return next(v for v in self.values if v.name == name)


_HW = "https://support.huaweicloud.com"
_ALI = "https://www.alibabacloud.com/help/en/ecs"

READINGS = (
    Reading(
        "huawei_group_order", "huawei",
        "an ENI in several groups: group by group, or all rules together?",
        (Value("sequential", "group by group in association order, each by rule priority "
               "(deny before allow at equal priority); the first match decides", (
                   Source("VPC FAQ: Which Security Group Rule Has a High Priority When "
                          "Multiple Security Group Rules Conflict? (vpc_faq_0077, current "
                          "text, as mirrored by cloud.ru)",
                          "https://cloud.ru/docs/en/usermanual/vpc/vpc_faq_0077",
                          "first by the sequence number of the security groups, then by "
                          "the priorities and actions of the rules"),
                   Source("VPC Access Control Overview, matching rule",
                          f"{_HW}/eu/usermanual-vpc/en-us_topic_0052003963.html",
                          "first the order of the instance's groups, then the priority of "
                          "the rules in a group; deny before allow at equal priority"),
                   Source("ECS: Adding an instance to security groups (加入安全组)",
                          f"{_HW}/topic/517214-4-A",
                          "access rules apply first by the order of the bound groups, then "
                          "by the priority of the rules in a group"))),
         Value("aggregated", "every rule of every group of the ENI together, by priority "
               "(deny before allow at equal priority); association order only breaks ties", (
                   Source("VPC: Security Group and Security Group Rule Overview",
                          f"{_HW}/eu/de-de/usermanual-vpc/en-us_topic_0073379079.html",
                          "a cloud resource can be associated with multiple security "
                          "groups, and traffic is matched by priority in a descending order"),
                   Source("ECS: Security group overview (eu-west-0)",
                          f"{_HW}/intl/en-us/eu-west-0-usermanual-ecs/"
                          "en-us_topic_0140323157.html",
                          "the rules of all the selected security groups are aggregated "
                          "to take effect"),
                   Source("VPC FAQ vpc_faq_0077 (Ankara region's older text)",
                          f"{_HW}/intl/en-us/tr-central-201-usermanual-vpc/vpc_faq_0077.html",
                          "if multiple security group rules conflict, the rules are "
                          "aggregated to take effect"))))),
    Reading(
        "alibaba_tcp25_outbound", "alibaba",
        "outbound TCP 25 (SMTP) to outside the VPC: blocked by the cloud, or up to the groups?",
        (Value("blocked", "the cloud drops it whatever the groups allow (the account has "
               "not had port 25 unblocked)", (
                   Source("ECS: Security group rules",
                          f"{_ALI}/user-guide/security-group-rules",
                          "TCP port 25 is restricted by default for security reasons; use "
                          "port 465 to send emails instead"),
                   Source("ECS: Notes on SMTP port 25 (Japan site)",
                          "https://jp.alibabacloud.com/help/doc-detail/49123.htm",
                          "sending mail over port 25 (outbound connections to port 25) is "
                          "restricted; 465 and 587 are not; unblocking is asked by ticket"))),
         Value("open", "the groups alone decide (an account or region where port 25 was "
               "unblocked, or the seed document, which names no such restriction)", (
                   Source("ECS Security groups overview (the seed document)",
                          "shared/seeds/004_24ea55991da847f0.txt",
                          "the rules of all the groups decide; no port is named as "
                          "restricted"),)))),
    Reading(
        "alibaba_groups_per_eni", "alibaba",
        "how many groups may one instance or ENI be in: 5 or 10?",
        (Value("10", "sgnet refuses more than 10 (the most a quota increase gives); lint "
               "says when an ENI is in 6 to 10, above the default quota of 5", (
                   Source("ECS API: JoinSecurityGroup",
                          f"{_ALI}/developer-reference/api-ecs-2014-05-26-joinsecuritygroup",
                          "an instance can be added to up to five security groups by "
                          "default; a ticket changes the maximum to 4 or 10"),)),
         Value("5", "the default quota of an account", (
             Source("ECS API: JoinSecurityGroup (help.aliyun.com)",
                    "https://help.aliyun.com/en/ecs/developer-reference/"
                    "api-ecs-2014-05-26-joinsecuritygroup",
                    "an instance or an elastic network interface can belong to a maximum of "
                    "five security groups"),))),
        kind="limit"),
    Reading(
        "alibaba_mixed_types_across_enis", "alibaba",
        "may a secondary ENI be in an advanced group while the primary is in a basic one?",
        (Value("per-eni", "allowed: the basic/advanced rule binds each ENI (sgnet refuses "
               "mixing on one ENI only); lint says when an instance's ENIs mix them", (
                   Source("ECS Security groups overview (the seed document)",
                          "shared/seeds/004_24ea55991da847f0.txt",
                          "the secondary ENIs of an instance can be assigned to security "
                          "groups different from those of the instance"),)),
         Value("per-instance", "refused: an instance and its ENIs are either basic or "
               "advanced", (
                   Source("ECS Security groups overview (the seed document)",
                          "shared/seeds/004_24ea55991da847f0.txt",
                          "an instance cannot belong to a basic security group and an "
                          "advanced security group at the same time"),))),
        kind="limit"),
)

BY_SETTING = {r.setting: r for r in READINGS}


def settings(provider: str = None) -> list:
    """The lab settings that choose a reading (of one provider, or of all)."""
    return [r.setting for r in READINGS if r.kind == "verdict"
            and (provider is None or r.provider == provider)]


def value(lab, setting: str) -> str:
    """The reading a lab uses: its setting, else the default."""
    return (lab.settings or {}).get(setting) or BY_SETTING[setting].default


def alternatives(lab) -> list:
    """(setting, value) of every other reading of the lab's provider's verdict settings."""
    return [(r.setting, v.name) for r in READINGS
            if r.kind == "verdict" and r.provider == lab.provider
            for v in r.values if v.name != value(lab, r.setting)]


def source_urls(setting: str, name: str) -> list:
    return [s.url for s in BY_SETTING[setting].value(name).sources]


# -- limits: what lint says ---------------------------------------------------------------------
DEFAULT_GROUP_QUOTA = 5


def notes(lab) -> list:
    """Lint findings (info) where a lab stands where the limit readings part: which
    reading sgnet used, and what the other one would say."""
    if lab.provider != "alibaba":
        return []
    out = []
    for inst in lab.instances:
        for eni in inst.enis:
            n = len(eni.groups)
            if DEFAULT_GROUP_QUOTA < n <= 10:
                out.append(_note(eni.groups[-1], f"{eni.instance}/{eni.ifname} is in {n} "
                                 f"groups: allowed as the raised quota (10), above the "
                                 f"default quota of {DEFAULT_GROUP_QUOTA} (reading "
                                 "alibaba_groups_per_eni: an account without a raised quota "
                                 "is refused)"))
        types = {}
        for eni in inst.enis:
            for g in eni.groups:
                types.setdefault(getattr(lab.groups[g].extras, "type", "basic"), g)
        if len(types) > 1:
            out.append(_note(types["advanced"], f"instance {inst.name} has ENIs in basic "
                             f"({types['basic']}) and advanced ({types['advanced']}) groups: "
                             "allowed per ENI (reading alibaba_mixed_types_across_enis; read "
                             "per instance, the cloud refuses it)"))
    return out


def _note(group, message):
    return {"severity": "info", "group": group, "rule": None, "message": message}


# -- the README's table -------------------------------------------------------------------------
def readme_table() -> str:
    """The README's "Where the documents disagree" table, from READINGS."""
    lines = ["| provider | question | setting | readings (default first) | sources |",
             "| --- | --- | --- | --- | --- |"]
    for r in READINGS:
        setting = f"`{r.setting}`" if r.kind == "verdict" else "(a limit: lint says it)"
        values = "<br>".join(f"`{v.name}`: {v.meaning}" for v in r.values)
        sources = "<br>".join(f"{v.name}: " + "; ".join(map(_cited, v.sources))
                              for v in r.values)
        lines.append(f"| {r.provider} | {r.question} | {setting} | {values} | {sources} |")
    return "\n".join(lines)


def _cited(s: Source) -> str:
    """A page as a link; a file of the project's documents (the seeds) as its path."""
    return f"[{s.title}]({s.url})" if s.url.startswith("http") else f"{s.title} (`{s.url}`)"


# -- which labs and ENIs a verdict reading can change --------------------------------------------
def may_differ(lab, setting: str) -> bool:
    """Can any flow of the lab get another verdict under another value of `setting`? Checked
    once per lab, so a lab where the readings agree costs nothing more."""
    if setting == "huawei_group_order":
        return any(len(eni.groups) > 1 for eni in lab.enis)
    if setting == "alibaba_tcp25_outbound":
        return bool(lab.externals)
    return True


def eni_may_differ(setting: str, eni) -> bool:
    """Can this ENI's decision lists differ under another value of `setting`?"""
    return setting != "huawei_group_order" or len(eni.groups) > 1
