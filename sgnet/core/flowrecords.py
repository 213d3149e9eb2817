"""One flow-log record, read from its fields (core: pure; the files are read by sgnet.io.flowlogs).

The providers' records, as documented:

- Huawei Cloud VPC flow logs (stored in LTS), one space-separated line per record:
  ``version project-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes
  start end action log-status``; a NODATA or SKIPDATA record has ``-`` in every flow field
  (Huawei's "Viewing a VPC Flow Log" page,
  https://support.huaweicloud.com/intl/en-us/eu-west-0-usermanual-vpc/FlowLog_0004.html; its
  text as read here: Huawei's documentation source for Open Telekom Cloud,
  https://gitea1.eco.tsi-dev.otc-service.com/lboka/doc-exports/raw/branch/adding_new_docs/docs/vpc/umn/FlowLog_0004.html).
- Alibaba Cloud VPC flow logs (stored in SLS), key-value logs whose fields include
  ``version account-id eni-id vm-id vpc-id vswitch-id region srcaddr srcport dstaddr dstport
  protocol direction packets bytes start end log-status action tcp-flags traffic_path``
  (https://www.alibabacloud.com/help/en/sls/vpc); direction ``in``/``out``.

Both: protocol an IANA number, action ACCEPT/REJECT, log-status OK/NODATA/SKIPDATA, start
and end Unix timestamps (seconds).

API
  FlowRecord              the record (frozen): provider, eni, src, dst, sport, dport,
                          protocol, packets, bytes, start, end, action, direction,
                          log_status, line, source
  RowProblem(field, problem, value=...)   a malformed row (a ValueError); .message
  huawei_line(text, line, source)         a Huawei line -> FlowRecord | "NODATA" | "SKIPDATA"
  from_fields(provider, mapping, line, source)   a keyed row (JSON object, CSV row)
  normal_key(key)         a field name as the tables use it: "account_id" -> "account-id"
  HUAWEI_FIELDS, ALIBABA_REQUIRED, SKIP_STATUSES
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Union

from sgnet.core.errors import short
from sgnet.core.values import EXPORT_PROTOCOLS, ValueProblem, ascii_int, parse_protocol

HUAWEI = "huawei"
ALIBABA = "alibaba"
PROVIDERS = (HUAWEI, ALIBABA)

HUAWEI_FIELDS = ("version", "project-id", "interface-id", "srcaddr", "dstaddr", "srcport",
                 "dstport", "protocol", "packets", "bytes", "start", "end", "action",
                 "log-status")
HUAWEI_REQUIRED = HUAWEI_FIELDS[2:]
ALIBABA_REQUIRED = ("eni-id", "srcaddr", "srcport", "dstaddr", "dstport", "protocol",
                    "direction", "packets", "bytes", "start", "end", "action", "log-status")
ENI_FIELD = {HUAWEI: "interface-id", ALIBABA: "eni-id"}

OK = "OK"
SKIP_STATUSES = ("NODATA", "SKIPDATA")
LOG_STATUSES = (OK,) + SKIP_STATUSES
ACTIONS = {"ACCEPT": "accept", "REJECT": "reject"}
DIRECTIONS = {"in": "ingress", "out": "egress"}

MAX_COUNTER = 2**63 - 1  # packets, bytes
MAX_TIME = 253402300799  # 9999-12-31T23:59:59Z: larger is not epoch seconds (milliseconds?)
MAX_ID = 128  # characters of an ENI id

_NO_VALUE = object()


class RowProblem(ValueError):
    """A row that is not a flow-log record: the field (None: the row as a whole), what is
    wrong, and the value (cut when shown)."""

    def __init__(self, field: Optional[str], problem: str, value=_NO_VALUE):
        self.field, self.problem, self.value = field, problem, value
        msg = f"{field}: {problem}" if field else problem
        if value is not _NO_VALUE:
            msg += f" (got {short(value)})"
        self.message = msg
        super().__init__(msg)


@dataclass(frozen=True, slots=True)
class FlowRecord:
    provider: str  # "huawei" | "alibaba"
    eni: str  # Huawei interface-id, Alibaba eni-id
    src: Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
    dst: Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
    sport: Optional[int]  # None: "-" (no ports: ICMP and other protocols)
    dport: Optional[int]
    protocol: int  # IANA number
    packets: int
    bytes: int
    start: int  # epoch seconds
    end: int
    action: str  # "accept" | "reject"
    direction: Optional[str]  # "ingress" | "egress"; None: Huawei records have none
    log_status: str  # "OK"
    line: int  # line of the file (a record's position in a JSON document)
    source: str  # the file


def normal_key(key) -> str:
    """A field name as the documents' tables write it: trimmed, lower case, '_' as '-'
    (Alibaba's pages write account-id, some exports account_id)."""
    return str(key).strip().lower().replace("_", "-")


# -- one field ---------------------------------------------------------------------------------
@lru_cache(maxsize=65536)  # a flow log repeats its addresses: parse each once
def _address(text: str):
    return ipaddress.ip_address(text)


def _ip(field: str, value):
    if isinstance(value, str) and 2 <= len(value) <= 45:  # "::" .. a long IPv6 address
        try:
            return _address(value.strip())
        except ValueError:
            pass
    raise RowProblem(field, "not an IP address", value)


def _port(field: str, value) -> Optional[int]:
    if value == "-":
        return None
    n = ascii_int(value)
    if n is None or not 0 <= n <= 65535:  # 0: what records show for ports of ICMP
        raise RowProblem(field, "not a port (0-65535 or '-')", value)
    return n


def _count(field: str, value, hi: int = MAX_COUNTER) -> int:
    n = ascii_int(value)
    if n is None or n > hi:
        raise RowProblem(field, "not a whole number" if n is None else "out of range", value)
    return n


def _protocol(value) -> int:
    try:
        n = parse_protocol(value, EXPORT_PROTOCOLS, all_words=())
    except ValueProblem as e:
        raise RowProblem("protocol", f"{e.problem} (an IANA number 0-255)", value) from None
    return n


def _eni(field: str, value) -> str:
    if not isinstance(value, str) or not value or value == "-" or len(value) > MAX_ID \
            or not value.isprintable() or " " in value:
        raise RowProblem(field, "not an interface id", value)
    return value


def _status(value) -> str:
    s = value.strip().upper() if isinstance(value, str) else value
    if s not in LOG_STATUSES:
        raise RowProblem("log-status", "not OK, NODATA or SKIPDATA", value)
    return s


def _record(provider: str, get, line: int, source: str):
    """The record of a row whose fields `get(name)` returns (KeyError: missing), or the
    row's skip status."""
    status = _status(get("log-status"))
    if status != OK:
        return status
    action = get("action")
    act = ACTIONS.get(action.strip().upper() if isinstance(action, str) else action)
    if act is None:
        raise RowProblem("action", "not ACCEPT or REJECT", action)
    direction = None
    if provider == ALIBABA:
        d = get("direction")
        direction = DIRECTIONS.get(d.strip().lower() if isinstance(d, str) else d)
        if direction is None:
            raise RowProblem("direction", "not in or out", d)
    eni_field = ENI_FIELD[provider]
    src, dst = _ip("srcaddr", get("srcaddr")), _ip("dstaddr", get("dstaddr"))
    if src.version != dst.version:
        raise RowProblem("dstaddr", f"not an IPv{src.version} address like srcaddr",
                         get("dstaddr"))
    start, end = _count("start", get("start"), MAX_TIME), _count("end", get("end"), MAX_TIME)
    if end < start:
        raise RowProblem("end", f"before start ({start})", get("end"))
    return FlowRecord(provider, _eni(eni_field, get(eni_field)), src, dst,
                      _port("srcport", get("srcport")), _port("dstport", get("dstport")),
                      _protocol(get("protocol")), _count("packets", get("packets")),
                      _count("bytes", get("bytes")), start, end, act, direction, status,
                      line, source)


_HUAWEI_INDEX = {name: i for i, name in enumerate(HUAWEI_FIELDS)}


def huawei_line(text: str, line: int, source: str):
    """A Huawei Cloud flow-log line -> FlowRecord, or "NODATA"/"SKIPDATA"; RowProblem."""
    fields = text.split()
    if len(fields) != len(HUAWEI_FIELDS):
        raise RowProblem(None, f"expected {len(HUAWEI_FIELDS)} space-separated fields "
                         f"({' '.join(HUAWEI_FIELDS)}), got {len(fields)}")
    return _record(HUAWEI, lambda name: fields[_HUAWEI_INDEX[name]], line, source)


def from_fields(provider: str, row: dict, line: int, source: str,
                keys: Optional[dict] = None):
    """A keyed row -> FlowRecord, or "NODATA"/"SKIPDATA"; RowProblem naming a missing or
    bad field. `keys` maps each field's normal_key to the row's own key (None: the row's
    keys are normal already)."""

    def get(name):
        try:
            value = row[name if keys is None else keys[name]]
        except KeyError:
            raise RowProblem(name, "missing") from None
        if value is None:
            raise RowProblem(name, "missing (null)")
        return value

    return _record(provider, get, line, source)
