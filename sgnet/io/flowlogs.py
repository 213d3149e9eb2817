"""Reading flow-log files (io): Huawei Cloud and Alibaba Cloud VPC flow logs, streamed.

`open_flowlog(path, provider=None)` looks at the head of the file and decides what it is,
or refuses it with a LabError naming the file and why (exit 2): not a regular file, empty,
binary, not UTF-8, a JSON document without records, or fewer than half of its first
HEAD_ROWS non-empty rows readable as flow-log records (a lab YAML, random text, another
export). `provider` ("huawei" | "alibaba", the CLI's --format) skips guessing the provider;
the shape of the file is always detected. The returned FlowLog's `records()` is a generator
of sgnet.core.flowrecords.FlowRecord: one row in memory at a time, whatever the file's size
(except the SLS query JSON, one JSON document, read whole within SGNET_MAX_INPUT_BYTES).

Shapes (gzip accepted for all of them, recognised by its magic bytes 1f 8b):

- ``lines``: Huawei's space-separated records, one a line (the format of Huawei's
  documentation and of a record in LTS);
- ``jsonl``: one JSON object a line: the fields by name (``srcaddr``, ``eni-id`` or
  ``eni_id``, ...), or for Huawei an LTS log whose ``content`` (or ``message``, ``record``,
  ``log``) field holds the record's line;
- ``csv``: a header row naming the fields (or a ``content`` column holding Huawei lines);
- ``json``: the JSON of an SLS query: an array of log objects (GetLogs), an object with the
  array under ``data`` (GetLogsV2) or ``logs``, or PullLogs' ``logGroupList`` of
  ``Logs[].Contents[{Key, Value}]``.

Rows that are no record are skipped, never fatal, and counted in FlowLog.skips: NODATA and
SKIPDATA records (by status, with their first line numbers) and malformed rows, each with a
message ``flows.log:17: srcaddr: not an IP address (got '10.0.0.x')`` (at most MAX_MESSAGES
kept, the rest counted). A gzip stream that breaks off ends the reading with such a message.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import stat
import zlib
from typing import Iterator, Optional

from sgnet.core.errors import LabError, short
from sgnet.core.flowrecords import (ALIBABA, HUAWEI, PROVIDERS, SKIP_STATUSES, FlowRecord,
                                    RowProblem, from_fields, huawei_line, normal_key)
from sgnet.io.labfile import INPUT_LIMIT_VARIABLE, input_limit

HEAD_ROWS = 20  # rows looked at to decide whether a file is a flow log
HEAD_BYTES = 1 << 16  # bytes looked at to decide its shape
MAX_LINE = 1 << 16  # bytes of one line; a longer one is skipped as malformed
MAX_MESSAGES = 100  # messages kept of malformed rows
MAX_STATUS_LINES = 20  # line numbers kept per skipped status (NODATA, SKIPDATA)
SHAPES = ("lines", "jsonl", "csv", "json")
NAMES = {HUAWEI: "a Huawei Cloud VPC flow log", ALIBABA: "an Alibaba Cloud VPC flow log"}
CONTENT_KEYS = ("content", "message", "record", "log")  # an LTS log's raw line
_ALIBABA_KEYS = {"eni-id", "vswitch-id", "vm-id", "vpc-id", "account-id", "direction"}
_HUAWEI_KEYS = {"interface-id", "project-id"}
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


class Skips:
    """What a reading skipped: counts by reason, line numbers of NODATA/SKIPDATA rows (the
    first MAX_STATUS_LINES of each), messages of malformed rows (the first MAX_MESSAGES)."""

    def __init__(self):
        self.counts = {"NODATA": 0, "SKIPDATA": 0, "malformed": 0}
        self.status_lines = {s: [] for s in SKIP_STATUSES}
        self.messages: list[str] = []
        self.more = 0  # messages not kept

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def status(self, status: str, line: int):
        self.counts[status] += 1
        kept = self.status_lines[status]
        if len(kept) < MAX_STATUS_LINES:
            kept.append(line)

    def problem(self, message: str):
        self.counts["malformed"] += 1
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(message)
        else:
            self.more += 1

    def summary(self) -> list[str]:
        """Lines for a report: the counts, then the messages."""
        out = [f"skipped {self.total:,} rows: " + ", ".join(
            f"{n:,} {what}" for what, n in self.counts.items())]
        out += self.messages
        if self.more:
            out.append(f"... and {self.more:,} more malformed rows")
        return out


def _where(source: str, shape: str, n: int) -> str:
    return f"{source}: record {n}" if shape == "json" else f"{source}:{n}"


class FlowLog:
    """A flow-log file that open_flowlog accepted: its provider and shape; records() reads
    it (again at each call), and skips says what the last reading skipped."""

    def __init__(self, path: str, provider: str, shape: str):
        self.path, self.provider, self.shape = path, provider, shape
        self.skips = Skips()

    def records(self) -> Iterator[FlowRecord]:
        self.skips = skips = Skips()
        source, shape = self.path, self.shape
        for n, outcome in _outcomes(self.path, self.provider, shape):
            if type(outcome) is FlowRecord:
                yield outcome
            elif isinstance(outcome, str):
                skips.status(outcome, n)
            else:
                skips.problem(f"{_where(source, shape, n)}: {outcome.message}")

    __iter__ = records


# -- opening -----------------------------------------------------------------------------------
def _shown(path) -> str:
    return path if len(path) <= 200 else f"{path[:120]}...{path[-60:]}"


def _open(path: str):
    """The file, binary, decompressed when it is gzip; a LabError when it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        raise LabError(f"{_shown(path)}: cannot read the flow log: {e.strerror}") from None
    except ValueError:
        raise LabError(f"{short(path)}: cannot read the flow log: the path holds a NUL byte") \
            from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LabError(f"{_shown(path)}: cannot read the flow log: not a regular file")
        f = os.fdopen(fd, "rb", buffering=1 << 20)
    except BaseException:
        os.close(fd)
        raise
    try:
        if f.peek(2)[:2] == _GZIP_MAGIC:
            return gzip.GzipFile(fileobj=f, mode="rb")
    except OSError as e:
        f.close()
        raise LabError(f"{_shown(path)}: cannot read the flow log: {e.strerror}") from None
    return f


def _lines(f) -> Iterator[tuple]:
    """(line number, text) of each non-empty line, stripped. A line too long, not UTF-8,
    or where the gzip stream breaks off yields (line number, RowProblem) instead (the last
    one ends the lines)."""
    readline, n = f.readline, 0
    while True:
        try:
            raw = readline(MAX_LINE + 1)
        except _GZIP_ERRORS as e:
            yield n + 1, RowProblem(None, f"the gzip stream is damaged or cut short ({e}); "
                                    "reading stopped")
            return
        if not raw:
            return
        n += 1
        if len(raw) > MAX_LINE and raw[-1:] != b"\n":
            try:
                while True:
                    rest = readline(1 << 20)
                    if not rest or rest[-1:] == b"\n":
                        break
            except _GZIP_ERRORS:
                pass
            yield n, RowProblem(None, f"line longer than {MAX_LINE:,} bytes")
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield n, RowProblem(None, f"not UTF-8 text (byte {e.start})")
            continue
        if n == 1 and text[:1] == "\ufeff":
            text = text[1:]
        text = text.strip()
        if text:
            yield n, text


_KEYMAPS: dict = {}  # a row's keys -> {normal_key: the row's key}: rows repeat their keys
MAX_KEYMAPS = 1024


def _keymap(keys: tuple) -> dict:
    m = _KEYMAPS.get(keys)
    if m is None:
        m = {normal_key(k): k for k in keys}
        if len(_KEYMAPS) < MAX_KEYMAPS:
            _KEYMAPS[keys] = m
    return m


def _keyed(provider: str, obj, n: int, source: str):
    if not isinstance(obj, dict):
        return RowProblem(None, "not a JSON object", obj)
    keys = _keymap(tuple(obj))
    if provider == HUAWEI and "srcaddr" not in keys:
        for key in CONTENT_KEYS:
            if key in keys and isinstance(obj[keys[key]], str):
                return huawei_line(obj[keys[key]], n, source)
    return from_fields(provider, obj, n, source, keys)


def _outcomes(path: str, provider: str, shape: str) -> Iterator[tuple]:
    """(n, FlowRecord | "NODATA" | "SKIPDATA" | RowProblem) for every row of the file."""
    f = _open(path)
    try:
        if shape == "json":
            yield from _json_outcomes(path, provider, f)
            return
        lines = _lines(f)
        if shape == "lines":
            for n, text in lines:
                if type(text) is str:
                    try:
                        yield n, huawei_line(text, n, path)
                    except RowProblem as e:
                        yield n, e
                else:
                    yield n, text
        elif shape == "jsonl":
            for n, text in lines:
                if type(text) is not str:
                    yield n, text
                    continue
                try:
                    obj = json.loads(text)
                except (ValueError, RecursionError):
                    yield n, RowProblem(None, "not a JSON object", text)
                    continue
                try:
                    yield n, _keyed(provider, obj, n, path)
                except RowProblem as e:
                    yield n, e
        else:
            yield from _csv_outcomes(path, provider, lines)
    finally:
        f.close()


def _csv_outcomes(path: str, provider: str, lines) -> Iterator[tuple]:
    current = [0]
    held = []  # problems of the lines generator, given out in order

    def texts():
        for n, text in lines:
            if type(text) is str:
                current[0] = n
                yield text
            else:
                held.append((n, text))

    reader = csv.reader(texts())
    header = None
    for cells in reader:
        while held:
            yield held.pop(0)
        n = current[0]
        if header is None:
            header = [normal_key(c) for c in cells]
            continue
        if len(cells) != len(header):
            yield n, RowProblem(None, f"{len(cells)} cells, the header names {len(header)}")
            continue
        row = dict(zip(header, cells))
        try:
            if provider == HUAWEI and "srcaddr" not in row and "content" in row:
                yield n, huawei_line(row["content"], n, path)
            else:
                yield n, from_fields(provider, row, n, path)
        except RowProblem as e:
            yield n, e
    while held:
        yield held.pop(0)


def _read_document(path: str, f) -> object:
    """The whole file as one JSON document, within the input limit."""
    limit = input_limit()
    try:
        data = f.read(limit + 1)
    except _GZIP_ERRORS as e:
        raise LabError(f"{_shown(path)}: the gzip stream is damaged or cut short ({e})") \
            from None
    if len(data) > limit:
        raise LabError(f"{_shown(path)}: a JSON flow-log document larger than {limit:,} bytes "
                       f"(set {INPUT_LIMIT_VARIABLE} to read larger ones, or export JSON "
                       "lines, which are streamed)")
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise LabError(f"{_shown(path)}: not UTF-8 text (byte {e.start})") from None
    except RecursionError:
        raise LabError(f"{_shown(path)}: a JSON document nested too deeply") from None
    except ValueError as e:
        raise LabError(f"{_shown(path)}: not a flow log: not valid JSON ({e})") from None


def _document_logs(data) -> Optional[Iterator]:
    """The log objects of an SLS query's JSON, or None: not such a document."""
    if isinstance(data, list):
        return iter(data)
    if isinstance(data, dict):
        for key in ("data", "logs"):
            if isinstance(data.get(key), list):
                return iter(data[key])
        groups = data.get("logGroupList")
        if isinstance(groups, list):  # PullLogs
            return (_contents(log) for group in groups if isinstance(group, dict)
                    for log in (group.get("Logs") or ()))
    return None


def _contents(log):
    if not isinstance(log, dict) or not isinstance(log.get("Contents"), list):
        return log
    return {c.get("Key"): c.get("Value") for c in log["Contents"] if isinstance(c, dict)}


def _json_outcomes(path: str, provider: str, f) -> Iterator[tuple]:
    logs = _document_logs(_read_document(path, f))
    if logs is None:
        return
    for n, obj in enumerate(logs, 1):
        try:
            yield n, _keyed(provider, obj, n, path)
        except RowProblem as e:
            yield n, e


# -- deciding what a file is -------------------------------------------------------------------
def _head(path: str) -> bytes:
    f = _open(path)
    try:
        return f.read(HEAD_BYTES)
    except _GZIP_ERRORS as e:
        raise LabError(f"{_shown(path)}: not a flow log: a damaged gzip file ({e})") from None
    finally:
        f.close()


def _shape(path: str, head: bytes) -> str:
    if not head.strip():
        raise LabError(f"{_shown(path)}: not a flow log: the file is empty")
    if b"\x00" in head:
        raise LabError(f"{_shown(path)}: not a flow log: a binary file (it holds NUL bytes)")
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if "\ufffd" in text[:-4]:  # the head may end inside a character
        raise LabError(f"{_shown(path)}: not a flow log: not UTF-8 text")
    first = text.split("\n", 1)[0].strip()
    if text[:1] == "[":
        return "json"
    if text[:1] == "{":
        try:
            obj = json.loads(first)
        except (ValueError, RecursionError):
            return "json"  # a document over several lines
        # one line: a log (JSON lines), or a whole SLS document written on one line
        return "json" if not isinstance(obj, dict) or _document_logs(obj) is not None \
            else "jsonl"
    if "," in first:
        cells = {normal_key(c) for c in next(csv.reader([first]))}
        if "srcaddr" in cells or "content" in cells:
            return "csv"
    return "lines"


def _keys_of(path: str, shape: str) -> set:
    """The field names of the first row (JSON) or of the header (CSV)."""
    if shape == "json":
        f = _open(path)
        try:
            logs = _document_logs(_read_document(path, f))
        finally:
            f.close()
        if logs is None:
            raise LabError(f"{_shown(path)}: not a flow log: a JSON document without log "
                           "records (expected an SLS query's JSON: an array of log objects, "
                           "or an object with them under 'data' or 'logs')")
        first = next(logs, None)
        if first is None:
            raise LabError(f"{_shown(path)}: not a flow log: a JSON document with no records")
        return {normal_key(k) for k in first} if isinstance(first, dict) else set()
    f = _open(path)
    try:
        for n, text in _lines(f):
            if type(text) is not str:
                continue
            if shape == "csv":
                return {normal_key(c) for c in next(csv.reader([text]))}
            try:
                obj = json.loads(text)
            except (ValueError, RecursionError):
                return set()
            return {normal_key(k) for k in obj} if isinstance(obj, dict) else set()
    finally:
        f.close()
    return set()


def _provider_of(keys: set) -> Optional[str]:
    if keys & _ALIBABA_KEYS:
        return ALIBABA
    if keys & _HUAWEI_KEYS or keys & set(CONTENT_KEYS):
        return HUAWEI
    return None


def open_flowlog(path: str, provider: Optional[str] = None) -> FlowLog:
    """The flow log at `path`, its shape detected and its provider detected or given
    (--format huawei|alibaba); a LabError naming the file when it is no flow log."""
    if provider is not None and provider not in PROVIDERS:
        raise LabError(f"--format: unknown flow-log format (got {short(provider)}); "
                       f"allowed: {', '.join(PROVIDERS)}")
    shape = _shape(path, _head(path))
    if shape == "lines":
        if provider == ALIBABA:
            raise LabError(f"{_shown(path)}: not {NAMES[ALIBABA]}: plain-text lines, a "
                           "shape Alibaba does not document for its flow logs; export JSON "
                           "lines, CSV with a header or the SLS query's JSON")
        provider = HUAWEI
    else:
        keys = _keys_of(path, shape)
        found = _provider_of(keys)
        if provider is None:
            if found is None:
                raise LabError(f"{_shown(path)}: not a flow log: its fields ("
                               f"{short(', '.join(sorted(keys)), 120)}) are neither Huawei's "
                               "(interface-id, ...) nor Alibaba's (eni-id, direction, ...)")
            provider = found
    log = FlowLog(path, provider, shape)
    rows = good = 0
    first_problem = None
    outcomes = _outcomes(path, provider, shape)
    try:
        for n, outcome in outcomes:
            rows += 1
            if isinstance(outcome, RowProblem):
                if first_problem is None:
                    first_problem = f"{_where(path, shape, n)}: {outcome.message}"
            else:
                good += 1
            if rows >= HEAD_ROWS:
                break
    finally:
        outcomes.close()  # closes the file
    if rows == 0:
        raise LabError(f"{_shown(path)}: not a flow log: no records in it")
    if 2 * good < rows:
        raise LabError(f"{_shown(path)}: not {NAMES[provider]} ({shape}): {good} of its "
                       f"first {rows} rows are records; the first problem: {first_problem}")
    return log


def read_flowlog(path: str, provider: Optional[str] = None) -> Iterator[FlowRecord]:
    """open_flowlog(path, provider).records(): the records, streamed."""
    return open_flowlog(path, provider).records()
