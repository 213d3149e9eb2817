"""Reading a lab file (io): the file, bounded, its YAML, bounded, then the pure validation.

load_file(path) and parse_text(text) read and load; sgnet.core.labspec.parse turns the
YAML document into the validated model (every check of what the file says is there). What
is read is bounded: a regular file of at most MAX_INPUT_BYTES (SGNET_MAX_INPUT_BYTES raises
it), of at most MAX_NODES YAML values nested at most MAX_DEPTH deep, aliases that expand to
at most MAX_ALIAS_NODES nodes, integers of at most MAX_INT_DIGITS digits. A problem is a
LabError naming the file (exit code 2).
"""

from __future__ import annotations

import ipaddress
import os
import stat

import yaml

from sgnet.core.errors import MAX_SHOWN, FieldError, LabError, short
from sgnet.core.labspec import Shown, building, control_character, cut_text, parse
from sgnet.core.model import Lab
from sgnet.core.placement import underlay_ip
from sgnet.core.values import MAX_INT_DIGITS, bounded_int

# Reading: the file's size (a lab of 10,000 instances is about 1 MB); the environment
# variable raises it.
MAX_INPUT_BYTES = 16 * 2**20
INPUT_LIMIT_VARIABLE = "SGNET_MAX_INPUT_BYTES"
MAX_DEPTH = 64  # levels of YAML nesting (a lab file needs 7)
# Values (YAML nodes) of one file: each costs Python about 10 microseconds and 500 bytes to
# read, whatever its length (a file of 16 MiB could hold 8 million). A lab of 10,000
# instances has about 80,000; one of 50,000 rules (BOUNDS["rules"]) about 650,000.
MAX_NODES = 1_000_000
# Nodes that aliases add when expanded: a "billion laughs" file of a few lines expands to
# billions; a lab that reuses a rule list in every group stays far below.
MAX_ALIAS_NODES = 1_000_000
# -- reading -----------------------------------------------------------------------------------
def input_limit() -> int:
    """The most bytes an input file may hold: MAX_INPUT_BYTES, or $SGNET_MAX_INPUT_BYTES."""
    value = os.environ.get(INPUT_LIMIT_VARIABLE)
    if value is None or value == "":
        return MAX_INPUT_BYTES
    n = bounded_int(value, 1, 2**62)
    if n is None:
        raise LabError(f"{INPUT_LIMIT_VARIABLE}: not a number of bytes (got {short(value)}); "
                       "allowed: a whole number, e.g. 67108864 for 64 MiB")
    return n


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def read_text(path: str, what: str = "the lab file", encoding: str = "utf-8") -> str:
    """A text file's contents, or a LabError naming the file (exit 2). Only a regular file
    is read (a FIFO would block, /dev/zero never end), at most input_limit() bytes of it."""
    limit = input_limit()
    path_shown = path if not isinstance(path, str) or len(path) <= 200 else \
        f"{path[:120]}...{path[-60:]} ({len(path):,} characters)"  # ENAMETOOLONG's
    try:
        # O_NONBLOCK: opening a FIFO waits for a writer otherwise; regular files ignore it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        raise LabError(f"{path_shown}: cannot read {what}: {e.strerror}") from None
    except ValueError:  # a NUL byte in the path
        raise LabError(f"{short(path)}: cannot read {what}: the path holds a NUL byte") \
            from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((k for test, k in _KINDS if test(mode)), "not a regular file")
            raise LabError(f"{path_shown}: cannot read {what}: it is {kind}, not a regular file")
        chunks, size = [], 0
        while size <= limit:  # st_size can lie (/proc) or grow: count what is read
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise LabError(f"{path_shown}: cannot read {what}: {e.strerror}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise LabError(f"{path_shown}: {what} is larger than {limit:,} bytes; allowed: at most "
                       f"{limit:,} (set {INPUT_LIMIT_VARIABLE} to read larger files)")
    try:
        return b"".join(chunks).decode(encoding)
    except UnicodeDecodeError as e:
        raise LabError(f"{path_shown}: not a UTF-8 text file (byte {e.start})") from None


# -- YAML --------------------------------------------------------------------------------------
class _Refused(yaml.composer.ComposerError):
    """A YAML file too large or too deep to read (not a syntax error)."""


class _Bounded(yaml.composer.Composer):
    """The composer of the lab file loaders: refuses more than MAX_NODES nodes, nesting
    deeper than MAX_DEPTH (counting what aliases bring in), aliases expanding to more than
    MAX_ALIAS_NODES nodes or into themselves. (With the key and integer constructors below, a
    loader also refuses a key given twice in one mapping, which PyYAML would keep the last
    of, and integers too long to read.)"""

    def _start(self):
        self._depth = 0
        self._nodes = 0
        self._expanded = 0  # nodes the aliases so far add
        self._size = {}  # collection node -> (nodes once expanded, depth once expanded)

    def compose_node(self, parent, index):
        event = self.peek_event()
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(None, None, f"more than {MAX_NODES:,} values", event.start_mark)
        if isinstance(event, yaml.ScalarEvent):  # most nodes: nothing inside to count
            return super().compose_node(parent, index)
        if isinstance(event, yaml.AliasEvent):
            node = self.anchors.get(event.anchor)
            if node is not None:
                if isinstance(node, yaml.ScalarNode):
                    size, depth = _ONE
                elif node in self._size:
                    size, depth = self._size[node]
                else:
                    raise _Refused(
                        None, None, f"alias *{cut_text(event.anchor, MAX_SHOWN)} is used "
                        "inside the node it names (a recursive structure)", event.start_mark)
                self._expanded += size
                if self._expanded > MAX_ALIAS_NODES:
                    raise _Refused(
                        None, None, f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes "
                        "(an alias bomb?)", event.start_mark)
                if self._depth + depth > MAX_DEPTH:
                    raise _Refused(
                        None, None, f"alias *{cut_text(event.anchor, MAX_SHOWN)} nests deeper "
                        f"than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(None, None, f"nested deeper than {MAX_DEPTH} levels",
                           event.start_mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        get = self._size.get
        if isinstance(node, yaml.SequenceNode):
            sizes = [get(c, _ONE) for c in node.value]
        else:
            sizes = [get(c, _ONE) for pair in node.value for c in pair]
        self._size[node] = (1 + sum(s for s, _ in sizes),
                            1 + max((d for _, d in sizes), default=0))
        return node


_ONE = (1, 0)  # a scalar: one node, no level of nesting


class _PyLoader(_Bounded, yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """The safe loader, bounded, in Python."""

    def __init__(self, stream):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._start()


_LOADERS = [_PyLoader]
try:
    from yaml.cyaml import CParser

    class _CLoader(_Bounded, CParser, yaml.constructor.SafeConstructor,
                   yaml.resolver.Resolver):
        """The same, parsing with libyaml (4 times faster at 10,000 instances): its events
        composed and constructed by the same Python code."""

        def __init__(self, stream):
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._start()

    _LOADERS.insert(0, _CLoader)
except ImportError:  # PyYAML without libyaml
    pass


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable key (a list or mapping used as a key)",
                key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {short(key)} (first at line {seen[key]})",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line + 1
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep)


def _construct_int(loader, node):
    text = node.value
    if len(text) > MAX_INT_DIGITS + 2:  # sign, underscores and prefixes aside
        raise yaml.constructor.ConstructorError(
            None, None, f"integer of {len(text):,} characters: too long (at most "
            f"{MAX_INT_DIGITS} digits)", node.start_mark)
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)


for _loader in _LOADERS:
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_yaml(text: str, source: str, loader=None):
    """The YAML document in text, bounded (see _Bounded); a LabError naming the source, the
    line and column, and the problem, cut to a readable length."""
    try:
        with building():
            return yaml.load(text, Loader=loader or _LOADERS[0])
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        if mark is not None:
            where = f"line {mark.line + 1}, column {mark.column + 1}"
        elif isinstance(e, yaml.reader.ReaderError):  # a character YAML does not allow
            # a position in the text (Python reader) or in its UTF-8 bytes (libyaml)
            before = text[:e.position] if e.encoding == "unicode" else \
                text.encode("utf-8", "surrogatepass")[:e.position].decode("utf-8", "replace")
            where = (f"line {before.count(chr(10)) + 1}, column "
                     f"{len(before) - (before.rfind(chr(10)) + 1) + 1}")
            char = e.character if isinstance(e.character, str) else chr(e.character)
            e.problem = (f"{control_character(char) or f'U+{ord(char):04X}'}: a character "
                         "YAML does not allow (control characters and NUL bytes)")
        else:
            where = "?"
        problem = getattr(e, "problem", None) or str(e)
        context, cmark = getattr(e, "context", None), getattr(e, "context_mark", None)
        if context:  # "while parsing a flow mapping (line 3)", "found duplicate anchor ..."
            problem = f"{context}{f' (line {cmark.line + 1})' if cmark else ''}: {problem}"
        kind = "YAML refused" if isinstance(e, _Refused) else "YAML syntax error"
        raise LabError(f"{source}: {where}: {kind}: {cut_text(problem, 300)}") from None


def load_file(path: str) -> Lab:
    return parse(load_yaml(read_text(path), path), path)


def parse_text(text: str, source: str = "<lab>") -> Lab:
    return parse(load_yaml(text, source), source)


def check_buildable(lab: Lab):
    """What a valid lab file may say but one lab cannot be built from (checked by `up`,
    before anything is touched; the pure verbs take such a file): its hosts must be all
    simulated or all real, and their underlay addresses of one family."""
    hosts = lab.hosts
    if len({h.simulated for h in hosts}) > 1:
        raise FieldError(lab.source, "hosts", "mixes simulated and real hosts, which cannot "
                         "be joined: a simulated host's underlay is a namespace of this "
                         "machine and never reaches a real one",
                         Shown([h.name for h in hosts]), "all simulated: true, or all real")
    underlay = [underlay_ip(h) for h in hosts]
    for h, a in zip(hosts, underlay):
        if underlay.count(a) > 1:
            raise FieldError(lab.source, f"hosts[{h.index}].address", "is also another "
                             "host's underlay address (simulated hosts without one get "
                             "198.18.0.N, N their place in the list)", a)
    if len({ipaddress.ip_address(a).version for a in underlay}) > 1:
        raise FieldError(lab.source, "hosts", "mixes IPv4 and IPv6 addresses: the VXLAN "
                         "underlay is one family", Shown([h.address for h in hosts]))
