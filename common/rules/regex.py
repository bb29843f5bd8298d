"""Linear-time regular expressions (RE2) for ``matches``, ``extract`` and ``mask``, with grok names.

RE2 has no backtracking, so one search costs time linear in the input whatever the pattern is; that
is the bound on evaluation time. Patterns RE2 cannot compile (backreferences, lookaround) are
rejected at validation time instead of being half-supported.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import re2

from common.schema.rule import REGEX_MAX_MEM_BYTES

# Grok-style building blocks: ``%{NAME}`` or ``%{NAME:field.path}`` in an ``extract`` pattern.
GROK_PATTERNS: dict[str, str] = {
    "INT": r"[+-]?[0-9]+",
    "NUMBER": r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)",
    "WORD": r"\w+",
    "NOTSPACE": r"\S+",
    "SPACE": r"\s*",
    "DATA": r".*?",
    "GREEDYDATA": r".*",
    "QUOTEDSTRING": r'"(?:[^"\\]|\\.)*"',
    "USERNAME": r"[a-zA-Z0-9._-]+",
    "USER": r"[a-zA-Z0-9._-]+",
    "IPV4": r"(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])",
    "IPV6": r"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}",
    "IP": r"(?:(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])"
    r"|(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})",
    "HOSTNAME": r"[0-9A-Za-z][0-9A-Za-z-]{0,62}(?:\.[0-9A-Za-z][0-9A-Za-z-]{0,62})*\.?",
    "EMAILADDRESS": r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}",
    "UUID": r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
    "PATH": r"(?:/[^\s/]*)+",
    "POSINT": r"[1-9][0-9]*",
    "LOGLEVEL": r"(?i:trace|debug|info|notice|warn(?:ing)?|err(?:or)?|crit(?:ical)?|alert"
    r"|emerg(?:ency)?|fatal)",
    "MAC": r"(?:[A-Fa-f0-9]{2}[:-]){5}[A-Fa-f0-9]{2}",
}

_GROK_REF: Final = re.compile(r"%\{([A-Z0-9_]+)(?::([A-Za-z_@][A-Za-z0-9_@.-]*))?\}")


class RegexError(ValueError):
    """A pattern that is too long, names an unknown grok pattern, or that RE2 cannot compile."""


@dataclass(frozen=True)
class ExpandedPattern:
    """A pattern with grok references replaced; ``fields`` maps generated group names to paths."""

    pattern: str
    fields: dict[str, str]


def expand_grok(pattern: str) -> ExpandedPattern:
    fields: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        name, target = match.group(1), match.group(2)
        body = GROK_PATTERNS.get(name)
        if body is None:
            raise RegexError(f"unknown grok pattern %{{{name}}}; known: {', '.join(sorted(GROK_PATTERNS))}")
        if target is None:
            return f"(?:{body})"
        # Group names cannot hold dots, so a field path gets a generated group name.
        group = f"grok{len(fields)}"
        fields[group] = target
        return f"(?P<{group}>{body})"

    return ExpandedPattern(_GROK_REF.sub(replace, pattern), fields)


def _options() -> Any:
    options = re2.Options()
    options.max_mem = REGEX_MAX_MEM_BYTES
    options.log_errors = False  # errors are reported to the rule author, not to stderr
    return options


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> Any:
    """Compile with RE2 (cached: many rules share patterns, and recompiling on swap is wasted work)."""
    # The length limit applies to what the author wrote (checked before grok expansion); expanded
    # grok can be longer, and RE2's max_mem bounds the compiled program either way.
    try:
        return re2.compile(pattern, options=_options())
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise RegexError(f"RE2 cannot compile this pattern: {detail}") from None


@lru_cache(maxsize=4096)
def compile_bytes_pattern(pattern: str) -> Any:
    """The same program over UTF-8 bytes (``pattern`` must already compile as text).

    google-re2's wrapper converts every match offset back from bytes to characters for text
    input; over bytes it does not, which makes a search several times cheaper. RE2 sees the same
    UTF-8 bytes either way, so whether and where it matches is unchanged.
    """
    return re2.compile(pattern.encode("utf-8"), options=_options())


def utf8_bytes(text: str) -> bytes:
    """The text as RE2 reads it: UTF-8, with lone surrogates as their surrogatepass bytes."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (JSON input may carry "\ud800" escapes) have no UTF-8 form. RE2 reads each
        # one's three surrogatepass bytes as one character, as Python does the surrogate: "." and
        # negated classes match it, and so does "\x{d800}" (checked in test_rules_surrogates.py).
        return text.encode("utf-8", "surrogatepass")


def _without_lone_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, which the text program can take."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


_NO_SPAN: Final = (-1, -1)
Spans = Callable[[bytes], Sequence[tuple[int, int]]]


def _spans(compiled: Any) -> Spans:
    """``data -> spans``: the first unanchored match of a bytes program over all of ``data``.

    ``spans[n]`` is group ``n``'s byte span, ``(-1, -1)`` where it did not take part (group 0 too
    when nothing matched). This is the call google-re2's ``search`` makes, without the generator
    and match object it wraps each call in, which cost more than the search itself on log lines.
    """
    regexp = getattr(compiled, "_regexp", None)
    match = getattr(regexp, "Match", None)
    if match is None:  # another google-re2 layout: the public API, same answers
        search = compiled.search
        groups = compiled.groups

        def public(data: bytes) -> Sequence[tuple[int, int]]:
            found = search(data)
            if found is None:
                return [_NO_SPAN]
            return [found.span(n) for n in range(groups + 1)]

        return public
    unanchored = re2._re2.RE2.Anchor.UNANCHORED

    def direct(data: bytes) -> Sequence[tuple[int, int]]:
        spans: Sequence[tuple[int, int]] = match(unanchored, data, 0, len(data))
        return spans

    return direct


SetMatch = Callable[[bytes], list[int]]
SetSearch = Callable[[str], SetMatch | None]


def _set_search(pattern: str) -> SetMatch | None:
    """``Match`` of an RE2 set of ``pattern`` behind a guard, ``\\A``, which every search matches.

    A set answers which of its patterns occur; unlike a search it has no slower engine to fall
    back on when its DFA runs out of memory, and then answers nothing at all. So an answer that
    lacks the guard is that failure, never "no match". None if the set cannot be built.
    """
    options = _options()
    found = re2._re2.Set(re2._re2.RE2.Anchor.UNANCHORED, options)
    if found.Add(rb"\A") != 0 or found.Add(pattern.encode("utf-8")) != 1 or not found.Compile():
        return None
    answer: SetMatch = found.Match
    return answer


def search_test(pattern: str, set_search: SetSearch = _set_search) -> Callable[[str], bool]:
    """A ``text -> bool``: whether a search for ``pattern`` finds a match (no match object needed).

    ``set_search`` builds the set answering it (tests make one that fails).
    """
    compiled = compile_bytes_pattern(pattern)
    spans = _spans(compiled)

    def searched(data: bytes) -> bool:
        return spans(data)[0] != _NO_SPAN

    # The set is google-re2's internal API, as the direct search in _spans is: with another
    # layout both go through the public one.
    direct = getattr(getattr(compiled, "_regexp", None), "Match", None) is not None
    set_match = set_search(pattern) if direct else None
    if set_match is None:

        def test(text: str) -> bool:
            return searched(utf8_bytes(text))

        return test

    # Called per record per predicate: whether the pattern occurs needs no match position, and an
    # RE2 set answers that with its DFA alone, in about half the time of a search for the span.
    def test_by_set(text: str) -> bool:
        data = utf8_bytes(text)
        hits = len(set_match(data))
        if hits:
            return hits == 2
        # The guard did not match either: the set's DFA ran out of memory; search instead.
        return searched(data)

    return test_by_set


class ActionPattern:
    """An RE2 pattern for actions, run over bytes when the text is ASCII.

    For ASCII text, byte offsets are character offsets and every group is ASCII, so the bytes
    program gives exactly the text program's matches, without google-re2's per-match offset
    conversion (the bulk of a search's cost on log lines); other text takes the text program.
    """

    __slots__ = ("_match", "_raw", "_spans", "_text", "_unanchored", "groupindex")

    def __init__(self, pattern: str) -> None:
        self._text = compile_pattern(pattern)
        self._raw = compile_bytes_pattern(pattern)
        self._spans = _spans(self._raw)
        self._match = getattr(getattr(self._raw, "_regexp", None), "Match", None)
        self._unanchored = re2._re2.RE2.Anchor.UNANCHORED
        self.groupindex: dict[str, int] = dict(self._text.groupindex)

    def groups(self, text: str, numbers: list[int]) -> list[str | None] | None:
        """The given groups of the first match (None where a group did not take part), or None."""
        if text.isascii():
            data = text.encode("ascii")
            spans = self._spans(data)
            if spans[0] == _NO_SPAN:
                return None
            return [
                None if (span := spans[n]) == _NO_SPAN else data[span[0] : span[1]].decode("ascii")
                for n in numbers
            ]
        try:
            match = self._text.search(text)
        except UnicodeEncodeError:
            match = self._text.search(_without_lone_surrogates(text))
        if match is None:
            return None
        return [match.group(n) for n in numbers]

    def replace(self, text: str, replacement: str) -> str:
        """Every match replaced by ``replacement``, taken literally (no group references)."""
        if text.isascii() and replacement.isascii():
            return self._replace_ascii(text.encode("ascii"), replacement.encode("ascii")).decode("ascii")
        try:
            result: str = self._text.sub(lambda _: replacement, text)
        except UnicodeEncodeError:
            result = self._text.sub(lambda _: replacement, _without_lone_surrogates(text))
        return result

    def _replace_ascii(self, data: bytes, replacement: bytes) -> bytes:
        # google-re2's ``sub`` over bytes, step for step (same matches, same handling of empty
        # ones), calling the program directly rather than through a generator of match objects.
        match = self._match
        if match is None:
            replaced: bytes = self._raw.sub(lambda _: replacement, data)
            return replaced
        pieces: list[bytes] = []
        end, pos, endpos = 0, 0, len(data)
        while True:
            start, stop = match(self._unanchored, data, pos, endpos)[0]
            if start == -1:
                break
            pieces.append(data[end:start])
            pieces.append(replacement)
            end = stop
            if pos == endpos:
                break
            pos = pos + 1 if pos == stop else stop
        if not pieces:
            return data
        pieces.append(data[end:])
        return b"".join(pieces)


def group_names(compiled: Any) -> set[str]:
    return set(compiled.groupindex)


# -- required literals, for pre-filtering ------------------------------------------------------

_REPEAT: Final = re.compile(r"\{(\d+)(?:,(\d*))?\}")
# Escapes that stand for one non-literal atom (a class or an assertion) and nothing longer.
_CLASS_ESCAPES: Final = frozenset("dDwWsSbBAzC")
_PUNCTUATION: Final = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


class _Unsure(Exception):
    """The pattern uses syntax the scanner does not model: claim no required literal."""


def required_literal(pattern: str) -> str | None:
    """A string that every match of ``pattern`` (RE2 syntax, case-sensitive) contains, or None.

    Used only to skip a regex search that cannot succeed, so it must never be wrong and may be
    weak: it reads the top level of the pattern as a sequence of atoms, collects runs of literal
    characters that are not optional, and returns the longest. Anything it does not model
    (alternation at the top, flags, ``\\Q..\\E``, ``\\x``/``\\p`` escapes, odd braces) yields None.
    Groups and classes count as non-literal atoms, whatever they contain.
    """
    runs = _required_runs(pattern)
    return max(runs, key=len) if runs else None


def required_count(pattern: str) -> tuple[str, int] | None:
    """A character every match of ``pattern`` holds at least this many times (when > 1), or None.

    The required runs belong to successive top-level atoms, which match disjoint parts of a match,
    so their characters add up: ``\\d+\\.\\d+\\.\\d+\\.\\d+`` needs three dots.
    """
    counts = Counter("".join(_required_runs(pattern)))
    if not counts:
        return None
    char, count = max(counts.items(), key=lambda item: item[1])
    return (char, count) if count > 1 else None


def _required_runs(pattern: str) -> list[str]:
    try:
        return _literal_runs(pattern)
    except _Unsure:
        return []


def _literal_runs(pattern: str) -> list[str]:
    runs: list[str] = []
    run: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        literal, i = _atom(pattern, i)
        # A following repetition decides whether the atom is required, and always ends the run:
        # "ab+c" guarantees "ab" and "c", never "abc".
        minimum, i = _repetition(pattern, i)
        if literal is not None and minimum != 0:
            run.append(literal)
        if literal is None or minimum is not None:
            if run:
                runs.append("".join(run))
            run = []
    if run:
        runs.append("".join(run))
    return runs


def _atom(pattern: str, i: int) -> tuple[str | None, int]:
    """One atom at ``i``: (its literal character or None, the index after it)."""
    c = pattern[i]
    if c == "\\":
        if i + 1 >= len(pattern):
            raise _Unsure
        d = pattern[i + 1]
        if d in _PUNCTUATION:
            return d, i + 2
        if d in _CLASS_ESCAPES:
            return None, i + 2
        raise _Unsure  # \Q, \x, \p, octal, \n ... not modelled
    if c == "[":
        return None, _class_end(pattern, i)
    if c == "(":
        if pattern.startswith("(?", i) and not (
            pattern.startswith("(?:", i) or pattern.startswith("(?P<", i) or pattern.startswith("(?<", i)
        ):
            raise _Unsure  # flags such as (?i) change what the rest matches
        return None, _group_end(pattern, i)
    if c in "|)*+?{":
        raise _Unsure  # top-level alternation, or syntax RE2 reads differently from us
    if c in ".^$":
        return None, i + 1
    return c, i + 1


def _repetition(pattern: str, i: int) -> tuple[int | None, int]:
    """A repetition operator at ``i``: (its minimum count or None when there is none, next index)."""
    if i >= len(pattern):
        return None, i
    c = pattern[i]
    if c in "*?":
        minimum, i = 0, i + 1
    elif c == "+":
        minimum, i = 1, i + 1
    elif c == "{":
        repeat = _REPEAT.match(pattern, i)
        if repeat is None:
            raise _Unsure  # RE2 reads a brace that is not a repetition as a literal
        minimum, i = int(repeat.group(1)), repeat.end()
    else:
        return None, i
    if i < len(pattern) and pattern[i] == "?":  # non-greedy: same set of matches
        i += 1
    if i < len(pattern) and pattern[i] in "*+?{":
        raise _Unsure
    return minimum, i


def _class_end(pattern: str, i: int) -> int:
    """Index after the character class opening at ``i``."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":  # a leading ']' is a member
        j += 1
    while j < len(pattern):
        c = pattern[j]
        if c == "\\":
            j += 2
        elif pattern.startswith("[:", j):
            end = pattern.find(":]", j + 2)
            if end < 0:
                raise _Unsure
            j = end + 2
        elif c == "]":
            return j + 1
        else:
            j += 1
    raise _Unsure


def _group_end(pattern: str, i: int) -> int:
    """Index after the group opening at ``i`` (nested groups, escapes and classes skipped)."""
    depth, j = 0, i
    while j < len(pattern):
        c = pattern[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = _class_end(pattern, j)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise _Unsure
