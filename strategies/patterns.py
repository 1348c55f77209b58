"""Length-aware construction of strings that match (or miss) a spec's regular expression.

``hypothesis.strategies.from_regex`` draws matching strings but cannot be told
their length, and JSON Schema puts ``minLength``/``maxLength`` beside
``pattern``. To build a matching string of an exact length (a valid value
inside the length bounds, an over-long value that still matches, a boundary
case) this module parses the pattern with ``re``'s own parser, computes the
set of lengths the pattern can match, and constructs a string of a chosen
length, with a ``random.Random`` making the choices. Every built string is
checked against the compiled pattern, so a construction bug surfaces as an
error, never as a mislabelled value.
"""
from __future__ import annotations

import functools
import random
import re
import string

try:  # Python 3.11 moved the parser; the old name still works with a warning.
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

__all__ = ["Pattern", "pattern", "mismatch_chars"]

# Exact length sets are computed up to this length; past it (only the base64
# logos of ImportClientBranding reach that far) construction is attempted and
# verified instead.
CAP = 4200

_PRINTABLE = "".join(c for c in string.printable if c not in "\t\n\r\x0b\x0c")
_SPACE = " \t\n\r\x0b\x0c"
_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: string.digits,
    sre_constants.CATEGORY_NOT_DIGIT: "".join(c for c in _PRINTABLE if not c.isdigit()),
    sre_constants.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre_constants.CATEGORY_NOT_WORD: "".join(
        c for c in _PRINTABLE if not (c.isalnum() or c == "_")
    ),
    # A space stands for \s: other whitespace would meet `$`'s special case
    # for a trailing newline and is not what a realistic value contains.
    sre_constants.CATEGORY_SPACE: " ",
    sre_constants.CATEGORY_NOT_SPACE: "".join(c for c in _PRINTABLE if c != " "),
}
# Characters tried, in order, to turn a matching string into a mismatch.
_MISMATCH_CHARS = "!~ #\n\u00e9%A0a-_.:/@*"


def mismatch_chars() -> str:
    """The characters tried when a matching string is broken at one position."""
    return _MISMATCH_CHARS


def _bits_upto(n: int) -> int:
    """The bitset {0..n} (empty for n < 0)."""
    return (1 << (n + 1)) - 1 if n >= 0 else 0


_MASK = _bits_upto(CAP)


def _sumset(a: int, b: int) -> int:
    """Lengths reachable by a string of length in ``a`` followed by one in ``b``."""
    out = 0
    shift = 0
    while b:
        if b & 1:
            out |= a << shift
        b >>= 1
        shift += 1
    return out & _MASK


class _Node:
    """One parsed regex item with its exact length set (a bitset up to CAP)."""

    __slots__ = ("op", "arg", "lengths", "unbounded", "children", "alphabet", "alt_lengths")

    def __init__(self, op, arg):
        self.op = op
        self.arg = arg
        self.children: list = []
        self.alphabet = ""
        self.lengths = 1
        self.unbounded = False
        self.alt_lengths: list[int] = []


def _class_alphabet(items) -> str:
    chars: set[str] = set()
    negate = False
    for op, arg in items:
        if op is sre_constants.NEGATE:
            negate = True
        elif op is sre_constants.LITERAL:
            chars.add(chr(arg))
        elif op is sre_constants.RANGE:
            lo, hi = arg
            chars.update(chr(c) for c in range(lo, min(hi, 0x7E) + 1))
        elif op is sre_constants.CATEGORY:
            chars.update(_CATEGORIES[arg])
        else:
            raise NotImplementedError(f"Expected a supported class item but got op={op}")
    if negate:
        return "".join(c for c in _PRINTABLE if c not in chars)
    return "".join(sorted(chars))


def _compile_seq(items) -> list[_Node]:
    return [_compile_item(op, arg) for op, arg in items]


_SEQ_CACHE: dict[int, tuple[list, tuple[int, bool], list[int]]] = {}


def _seq_info(nodes: list[_Node]) -> tuple[tuple[int, bool], list[int]]:
    """(length set, unbounded) of a sequence and its suffix length sets, cached per list."""
    cached = _SEQ_CACHE.get(id(nodes))
    if cached is not None and cached[0] is nodes:
        return cached[1], cached[2]
    suffix = [1] * (len(nodes) + 1)
    for i in range(len(nodes) - 1, -1, -1):
        suffix[i] = _sumset(nodes[i].lengths, suffix[i + 1])
    lengths = (suffix[0], any(n.unbounded for n in nodes))
    _SEQ_CACHE[id(nodes)] = (nodes, lengths, suffix)  # holding `nodes` keeps its id unique
    return lengths, suffix


def _seq_lengths(nodes: list[_Node]) -> tuple[int, bool]:
    return _seq_info(nodes)[0]


def _compile_item(op, arg) -> _Node:
    node = _Node(op, arg)
    if op is sre_constants.LITERAL:
        node.alphabet = chr(arg)
    elif op is sre_constants.NOT_LITERAL:
        node.alphabet = "".join(c for c in _PRINTABLE if c != chr(arg))
    elif op is sre_constants.ANY:
        node.alphabet = _PRINTABLE
    elif op is sre_constants.IN:
        node.alphabet = _class_alphabet(arg)
    elif op in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        # Anchors and look-arounds are zero-width; built strings are whole
        # values, so start/end anchors hold and the trailing
        # ``(?![\s\S])`` of the anchored form is satisfied by construction.
        node.lengths = 1
    elif op is sre_constants.SUBPATTERN:
        body = _compile_seq(arg[-1])
        node.children = [body]
        node.lengths, node.unbounded = _seq_lengths(body)
    elif op is sre_constants.BRANCH:
        alternatives = [_compile_seq(alt) for alt in arg[1]]
        node.children = alternatives
        node.lengths = 0
        for alt in alternatives:
            lengths, unbounded = _seq_lengths(alt)
            node.alt_lengths.append(lengths)
            node.lengths |= lengths
            node.unbounded = node.unbounded or unbounded
    elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
        lo, hi, body_items = arg
        body = _compile_seq(body_items)
        node.children = [body]
        body_lengths, body_unbounded = _seq_lengths(body)
        node.lengths, node.unbounded = _repeat_lengths(lo, hi, body_lengths, body_unbounded)
    else:
        raise NotImplementedError(f"Expected a supported regex construct but got op={op}")
    if op in (sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.ANY, sre_constants.IN):
        node.lengths = 1 << 1
    return node


def _repeat_lengths(lo: int, hi: int, body: int, body_unbounded: bool) -> tuple[int, bool]:
    unlimited = hi == sre_constants.MAXREPEAT
    result = 1 if lo == 0 else 0
    current = 1
    count = 0
    while True:
        if not unlimited and count >= hi:
            break
        nxt = _sumset(current, body)
        count += 1
        if count >= lo:
            if unlimited and nxt | result == result and count > lo:
                break
            result |= nxt
        if nxt == current and count >= lo:
            break
        current = nxt
        if not nxt:
            break
    can_grow = body > 1  # some copy of the body is non-empty
    unbounded = body_unbounded or (unlimited and can_grow)
    if not unlimited and can_grow and not body_unbounded:
        # A long bounded repeat can pass CAP (e.g. {0,1023} of a class).
        unbounded = unbounded or hi * body.bit_length() > CAP
    return result, unbounded


class Pattern:
    """A spec pattern (anchored form) with its length set and a string builder."""

    def __init__(self, anchored: str):
        if not isinstance(anchored, str):
            raise TypeError(f"Expected a regex string but got anchored={anchored!r}")
        self.source = anchored
        self.regex = re.compile(anchored)
        self._seq = _compile_seq(sre_parse.parse(anchored))
        self._lengths, self._unbounded = _seq_lengths(self._seq)

    def matches(self, value: str) -> bool:
        """Whether ``value`` satisfies the pattern as JSON Schema's ``pattern`` does."""
        return self.regex.search(value) is not None

    def can_match_length(self, length: int) -> bool:
        """Whether some string of exactly ``length`` characters matches."""
        if length < 0:
            return False
        if length <= CAP:
            return bool(self._lengths >> length & 1)
        return self._unbounded and self.build(length, random.Random(length)) is not None

    def within(self, low: int, high: int | None) -> bool:
        """Whether every string the pattern matches has a length in [low, high]."""
        if low > 0 and self._lengths & _bits_upto(low - 1):
            return False
        if high is None:
            return True
        return not self._unbounded and not self._lengths >> (high + 1)

    def lengths_between(self, low: int, high: int | None, limit: int = 64) -> list[int]:
        """Up to ``limit`` matchable lengths in [low, high] (high None: no bound), ascending."""
        found = []
        top = CAP if high is None else min(high, CAP)
        for n in range(max(low, 0), top + 1):
            if self._lengths >> n & 1:
                found.append(n)
                if len(found) >= limit:
                    return found
        if high is not None and high > CAP and self._unbounded:
            for n in (high - 3, high - 2, high - 1, high):
                if n > CAP and n >= low and self.can_match_length(n):
                    found.append(n)
        return found

    def longer_than(self, length: int, tries: int = 8) -> int | None:
        """The smallest matchable length above ``length`` (looking ``tries`` ahead past CAP)."""
        if length < CAP:
            rest = self._lengths >> (length + 1)
            if rest:
                return length + 1 + ((rest & -rest).bit_length() - 1)
        if not self._unbounded:
            return None
        for n in range(max(length + 1, CAP + 1), max(length + 1, CAP + 1) + tries):
            if self.can_match_length(n):
                return n
        return None

    def shorter_than(self, length: int) -> int | None:
        """The largest matchable length below ``length``, or None."""
        for n in range(min(length - 1, CAP), -1, -1):
            if self._lengths >> n & 1:
                return n
        return None

    def build(self, length: int, rng: random.Random) -> str | None:
        """A string of exactly ``length`` characters that matches, or None if there is none."""
        if length < 0:
            return None
        if length <= CAP and not self._lengths >> length & 1:
            return None
        parts: list[str] = []
        if not _build_seq(self._seq, length, rng, parts):
            return None
        value = "".join(parts)
        if len(value) != length or not self.matches(value):
            return None
        return value

    def mismatch(self, length: int, rng: random.Random, base: str | None = None) -> str | None:
        """A string of exactly ``length`` characters that does NOT match, or None."""
        if length == 0:
            return "" if not self.matches("") else None
        if base is None or len(base) != length:
            base = self.build(length, rng)
        if base is None:
            # No matching string of that length: any string of it is a mismatch.
            candidate = "!" * length
            return candidate if not self.matches(candidate) else None
        positions = list(range(length))
        rng.shuffle(positions)
        for position in positions[:16] + [0, length - 1]:
            for char in _MISMATCH_CHARS:
                candidate = base[:position] + char + base[position + 1:]
                if not self.matches(candidate):
                    return candidate
        return None


def _build_seq(nodes: list[_Node], length: int, rng: random.Random, out: list[str]) -> bool:
    """Append to ``out`` a string of ``length`` chars for the sequence ``nodes``."""
    if not nodes:
        return length == 0
    if length > CAP:
        return _build_long_seq(nodes, length, rng, out)
    # suffix[i]: lengths reachable by nodes[i:].
    _, suffix = _seq_info(nodes)
    if not suffix[0] >> length & 1:
        return False
    remaining = length
    for i, node in enumerate(nodes):
        options = _options(node.lengths, suffix[i + 1], remaining)
        if not options:
            return False
        chosen = options[rng.randrange(len(options))]
        if not _build_node(node, chosen, rng, out):
            return False
        remaining -= chosen
    return remaining == 0


def _build_long_seq(nodes: list[_Node], length: int, rng: random.Random, out: list[str]) -> bool:
    # Past CAP: every node takes its shortest length except the last unbounded
    # one, which takes the rest; the caller verifies the result.
    elastic = max((i for i, n in enumerate(nodes) if n.unbounded), default=None)
    if elastic is None:
        return False
    shortest = [(n.lengths & -n.lengths).bit_length() - 1 for n in nodes]
    rest = length - sum(s for i, s in enumerate(shortest) if i != elastic)
    for i, node in enumerate(nodes):
        if not _build_node(node, rest if i == elastic else shortest[i], rng, out):
            return False
    return True


@functools.lru_cache(maxsize=8192)
def _options(lengths: int, rest: int, remaining: int) -> tuple[int, ...]:
    """Lengths a node may take so that the nodes after it (length set ``rest``) fill ``remaining``.

    Cached: the same few (node, remaining length) pairs come up for every
    string built from a pattern.
    """
    return tuple(n for n in _bit_positions(lengths, remaining) if rest >> (remaining - n) & 1)


def _bit_positions(bits: int, upto: int) -> list[int]:
    bits &= _bits_upto(upto)
    found = []
    while bits:
        low = bits & -bits
        found.append(low.bit_length() - 1)
        bits ^= low
    return found


def _build_node(node: _Node, length: int, rng: random.Random, out: list[str]) -> bool:
    op = node.op
    if op in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return length == 0
    if node.alphabet and not node.children:
        if length != 1:
            return False
        out.append(node.alphabet[rng.randrange(len(node.alphabet))])
        return True
    if op is sre_constants.SUBPATTERN:
        if node.arg is None and length == 0:  # an optional copy of an unrolled repeat
            return True
        return _build_seq(node.children[0], length, rng, out)
    if op is sre_constants.BRANCH:
        alternatives = [
            alt for alt, lengths in zip(node.children, node.alt_lengths)
            if (length > CAP and any(n.unbounded for n in alt)) or lengths >> length & 1
        ]
        if not alternatives:
            return False
        return _build_seq(alternatives[rng.randrange(len(alternatives))], length, rng, out)
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
        return _build_repeat(node, length, rng, out)
    return False


def _build_repeat(node: _Node, length: int, rng: random.Random, out: list[str]) -> bool:
    lo, hi, _ = node.arg
    body = node.children[0]
    body_lengths, _ = _seq_lengths(body)
    if length == 0:
        return lo == 0 or body_lengths & 1 == 1
    if len(body) == 1 and body[0].alphabet and not body[0].children:
        # One character class repeated: draw the characters directly.
        if not (lo <= length <= (length if hi == sre_constants.MAXREPEAT else hi)):
            return False
        out.append(_chars(body[0].alphabet, length, rng))
        return True
    hi = length if hi == sre_constants.MAXREPEAT else min(hi, length)
    widths = _bit_positions(body_lengths, min(length, CAP))
    positive = set(w for w in widths if w > 0)
    if not positive:
        return False
    # Prefer a count whose copies all have (nearly) equal width: simple, and
    # fast for huge lengths, where a few distinct copies are tiled.
    counts = set()
    for w in positive:
        if w + 1 in positive:
            first, last = max(length // (w + 1) + 1, lo, 1), min(length // w, hi)
            if first <= last:
                counts.update({first, last, rng.randint(first, last)})
        elif length % w == 0 and max(lo, 1) <= length // w <= hi:
            counts.add(length // w)
    counts = sorted(counts)
    if counts:
        count = counts[rng.randrange(len(counts))]
        q, r = divmod(length, count)
        return _tile(body, count, q, r, rng, out)
    # General case (small lengths): exact dynamic programme over the copies.
    if length > CAP:
        return False
    return _build_seq(_Repeated(body, lo, hi).nodes(length), length, rng, out)


def _chars(alphabet: str, length: int, rng: random.Random) -> str:
    if length <= 256:
        return "".join(rng.choices(alphabet, k=length))
    chunk = "".join(rng.choices(alphabet, k=256))
    return (chunk * (length // 256 + 1))[:length]


def _tile(body, count: int, width: int, extra: int, rng: random.Random, out: list[str]) -> bool:
    units: dict[int, list[str]] = {}
    for w, needed in ((width, count - extra), (width + 1, extra)):
        if needed <= 0:
            continue
        made = []
        for _ in range(needed if count <= 64 else min(needed, 4)):
            parts: list[str] = []
            if not _build_seq(body, w, rng, parts):
                return False
            made.append("".join(parts))
        units[w] = made
    pieces = []
    for i in range(count):
        w = width + 1 if i < extra else width
        pool = units[w]
        pieces.append(pool[i % len(pool)])
    out.append("".join(pieces))
    return True


class _Repeated:
    """A repeat unrolled into a sequence of optional copies, for the exact builder."""

    def __init__(self, body, lo, hi):
        self.body, self.lo, self.hi = body, lo, hi

    def nodes(self, length: int) -> list[_Node]:
        body_lengths, _ = _seq_lengths(self.body)
        copies = []
        for i in range(min(self.hi, length)):
            node = _Node(sre_constants.SUBPATTERN, None)
            node.children = [self.body]
            node.lengths = body_lengths if i < self.lo else (body_lengths | 1)
            copies.append(node)
        return copies


@functools.lru_cache(maxsize=None)
def pattern(anchored: str) -> Pattern:
    """The compiled :class:`Pattern` for an anchored spec pattern (cached)."""
    return Pattern(anchored)
