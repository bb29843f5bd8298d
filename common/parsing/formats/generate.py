"""Generate detection's dispatch from the format registry, into ``common/parsing/detect.py``.

    python -m common.parsing.formats.generate           # rewrite detect.py's generated parts
    python -m common.parsing.formats.generate --check   # exit 1 when they are stale

Why generated rather than a table read per line: a table of candidates costs a generic call per
check and per parser (7-12% of the parse rate, measured), where code that names each parser and
inlines each check costs none, and mypyc compiles its calls to direct C calls. The registry stays
the source: the unit tests fail when the checked-in code differs from what it gives.

Only the two marked regions of detect.py are written: the format modules' import, and the dispatch
functions (one per place a parser is tried; see ``common.parsing.format``) with the first-character
table. The rest of detect.py (reading stamps, opening envelopes) is written by hand and calls them.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import io
import keyword
import sys
import textwrap
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from common.parsing.format import (
    AFTER_OTHER,
    DIGIT,
    END,
    LINE_CLASSES,
    LOWER,
    OTHER,
    PAYLOAD,
    UPPER,
    AfterStamp,
    Format,
    Line,
)
from common.parsing.formats import registry

DETECT: Path = Path(__file__).resolve().parent.parent / "detect.py"
PACKAGE = "common.parsing.formats"
COMMAND = "python -m common.parsing.formats.generate"
LINE_LENGTH = 110

LINE_VARIABLES = frozenset(("text", "ctx"))
STAMP_VARIABLES = frozenset(("rest", "ts", "ctx", "style", "separator", "zone", "start"))
_CHAR_NAMES = {"{": "brace", "<": "angle", "[": "bracket", " ": "space", ",": "comma"}


@dataclass(frozen=True)
class Candidate:
    priority: int
    order: int  # the module's place in the registry, then the entry's in its FORMAT
    label: str  # "<format name>" for the listing comments
    call: str  # source of the call, its arguments named as the place names them
    claims: str | None  # source of the check, names qualified
    opens: bool
    final: bool
    function: str | None  # a bare function of detect.py called with the standard arguments only


class RegistryError(ValueError):
    pass


def _alias(module: ModuleType) -> str:
    return module.__name__.rpartition(".")[2]


def _function_name(module: ModuleType, fn: object) -> str:
    """The module-level name of ``fn`` (by identity: compiled functions carry no reliable ``__module__``)."""
    preferred = getattr(fn, "__name__", None)
    names = [name for name, value in vars(module).items() if value is fn]
    if not names:
        raise RegistryError(f"{module.__name__}: a parser in FORMAT is not a function of the module")
    return preferred if preferred in names else names[0]


def _qualify(claims: str, module: ModuleType | None, variables: frozenset[str], where: str) -> str:
    """``claims`` with the module's own names prefixed by its name (``_X`` -> ``mod._X``)."""
    if "\n" in claims:
        raise RegistryError(f"{where}: claims must be one line")
    try:
        compile(claims, where, "eval")
    except SyntaxError as exc:
        raise RegistryError(f"{where}: claims {claims!r}: {exc.msg}") from None
    if module is None:  # detection's own step: its names are detect.py's
        return claims
    alias = _alias(module)
    columns: list[int] = []
    after_dot = False
    for tok in tokenize.generate_tokens(io.StringIO(claims).readline):
        if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string) and not after_dot:
            name = tok.string
            if name in variables or hasattr(builtins, name):
                pass
            elif name in vars(module):
                columns.append(tok.start[1])
            else:
                raise RegistryError(
                    f"{where}: claims name {name!r}, neither a variable here ({', '.join(sorted(variables))})"
                    f" nor a name of {module.__name__}"
                )
        after_dot = tok.type == tokenize.OP and tok.string == "."
    for column in reversed(columns):
        claims = f"{claims[:column]}{alias}.{claims[column:]}"
    return claims


def candidates(modules: Sequence[ModuleType]) -> dict[tuple[str, str], list[Candidate]]:
    """(kind, place) -> candidates in detection order; kind is "line" or "stamp"."""
    places: dict[tuple[str, str], list[Candidate]] = {}
    aliases: dict[str, str] = {}
    for index, module in enumerate(modules):
        fmt = getattr(module, "FORMAT", None)
        if not isinstance(fmt, Format):
            raise RegistryError(f"{module.__name__} declares no FORMAT")
        alias = _alias(module)
        if aliases.setdefault(alias, module.__name__) != module.__name__:
            raise RegistryError(f"{module.__name__} and {aliases[alias]} have the same last name")
        for number, entry in enumerate(fmt.entries):
            where = f"{module.__name__}.FORMAT entry {number}"
            if isinstance(entry, Line):
                kind, standard, variables = "line", "text, ctx", LINE_VARIABLES
            elif isinstance(entry, AfterStamp):
                kind, standard, variables = "stamp", "rest, ts, ctx", STAMP_VARIABLES
            else:
                raise RegistryError(f"{where}: not a Line or an AfterStamp")
            arguments = f"{standard}, {entry.args}" if entry.args else standard
            if isinstance(entry.parse, str):
                owner: ModuleType | None = None
                call = f"{entry.parse}({arguments})"
                function = entry.parse if not entry.args else None
            else:
                owner = module
                call = f"{alias}.{_function_name(module, entry.parse)}({arguments})"
                function = None
            claims = None if entry.claims is None else _qualify(entry.claims, owner, variables, where)
            for place in entry.places():
                _check_place(kind, place, where)
                places.setdefault((kind, place), []).append(
                    Candidate(
                        entry.priority,
                        index * 1000 + number,
                        fmt.name,
                        call,
                        claims,
                        entry.opens,
                        entry.final,
                        function,
                    )
                )
    for found in places.values():
        found.sort(key=lambda c: (c.priority, c.order))
    return places


def _check_place(kind: str, place: str, where: str) -> None:
    named = (*LINE_CLASSES, PAYLOAD) if kind == "line" else (END, AFTER_OTHER)
    if place in named:
        return
    if len(place) != 1 or not place.isascii() or place.isalnum() or place == "_":
        raise RegistryError(f"{where}: place {place!r} is none of {named} nor one punctuation character")


def _char_function(prefix: str, char: str) -> str:
    return f"{prefix}_{_CHAR_NAMES.get(char, f'u{ord(char):04x}')}"


def _line(text: str, indent: int) -> str:
    line = " " * indent + text
    return line + "  # noqa: E501" if len(line) > LINE_LENGTH else line


def _body(found: list[Candidate], indent: int) -> list[str]:
    """Statements trying ``found`` in order; the block always returns."""
    out: list[str] = []
    i = 0
    while i < len(found):
        claims = found[i].claims
        group = [found[i]]
        i += 1
        while i < len(found) and found[i].claims == claims and not group[-1].final:
            group.append(found[i])
            i += 1
        last = i == len(found)
        inner = indent if claims is None else indent + 4
        if claims is not None:
            out.append(_line(f"if {claims}:", indent))
        for position, c in enumerate(group):
            wrap = "_open_envelope(rec, ctx)" if c.opens else "rec"
            if c.final or (last and claims is None and position == len(group) - 1):
                if c.opens:
                    out.append(_line(f"rec = {c.call}", inner))
                    out.append(_line(f"return None if rec is None else {wrap}", inner))
                else:
                    out.append(_line(f"return {c.call}", inner))
            else:
                out.append(_line(f"rec = {c.call}", inner))
                out.append(_line("if rec is not None:", inner))
                out.append(_line(f"return {wrap}", inner + 4))
        if last and claims is not None:
            out.append(_line("return None", indent))
    if not found:
        out.append(_line("return None", indent))
    return out


def _listing(found: list[Candidate]) -> str:
    return ", ".join(f"{c.label} {c.priority}" for c in found) or "nothing"


def _comment(text: str, indent: int) -> list[str]:
    prefix = " " * indent + "# "
    return textwrap.wrap(text, LINE_LENGTH, initial_indent=prefix, subsequent_indent=prefix + "  ")


def _describe(kind: str, place: str) -> str:
    if kind == "stamp":
        if place == END:
            return "nothing after the stamp"
        if place == AFTER_OTHER:
            return "any other character after the stamp"
        return f"{place!r} after the stamp"
    return {
        DIGIT: "lines starting with a digit",
        UPPER: "lines starting with an upper-case ASCII letter",
        LOWER: 'lines starting with a lower-case ASCII letter or "_"',
        OTHER: "lines starting with any other character",
        PAYLOAD: "a syslog or journald message",
    }.get(place, f"lines starting with {place!r}")


def _line_function(place: str) -> str:
    if place == PAYLOAD:
        return "_payload"
    if place in LINE_CLASSES:
        return f"_line_{place}"
    return _char_function("_line", place)


def render_imports(modules: Sequence[ModuleType]) -> str:
    inside = sorted(_alias(m) for m in modules if m.__name__ == f"{PACKAGE}.{_alias(m)}")
    lines = ["from common.parsing.formats import ("] + [f"    {name}," for name in inside] + [")"]
    for module in modules:
        if module.__name__ != f"{PACKAGE}.{_alias(module)}":
            package, _, name = module.__name__.rpartition(".")
            lines.append(f"from {package} import {name}" if package else f"import {name}")
    return "\n".join(lines) + "\n\n"  # the blank line: isort's, before the end marker


def render_dispatch(modules: Sequence[ModuleType]) -> str:
    places = candidates(modules)
    out: list[str] = ["# fmt: off"]
    line_places = [p for kind, p in places if kind == "line"]
    chars = sorted(p for p in line_places if p not in (*LINE_CLASSES, PAYLOAD))
    direct: dict[str, str] = {}
    for place in [*LINE_CLASSES, *chars, PAYLOAD]:
        found = places.get(("line", place), [])
        name = _line_function(place)
        only = found[0] if len(found) == 1 else None
        if place in chars and only is not None and only.function and only.claims is None and not only.opens:
            direct[place] = only.function  # one unchecked step of detect.py's own: the table holds it
            listing = f"{_describe('line', place)}: {_listing(found)} (detect.{only.function})"
            out += ["", *_comment(listing, 0)]
            continue
        out += ["", "", f"def {name}(text: str, ctx: Context) -> dict[str, Any] | None:"]
        out += _comment(f"{_describe('line', place)}: {_listing(found)}", 4)
        if _needs_rec(found):
            out.append("    rec: dict[str, Any] | None")
        out += _body(found, 4)
    out += [
        "",
        "",
        "def _after_stamp(",
        "    rest: str, ts: str | None, ctx: Context, style: str, separator: str, zone: str | None,",
        "    start: int,",
        ") -> dict[str, Any] | None:",
        '    """What follows a leading timestamp (see common.parsing.format.AfterStamp)."""',
    ]
    stamp_found = {p: f for (kind, p), f in places.items() if kind == "stamp"}
    if any(_needs_rec(f) for f in stamp_found.values()):
        out.append("    rec: dict[str, Any] | None")
    out += _comment(f"{_describe('stamp', END)}: {_listing(stamp_found.get(END, []))}", 4)
    out.append("    if not rest:")
    out += _body(stamp_found.get(END, []), 8)
    out.append("    first = rest[0]")
    # The space first: most stamps are followed by one.
    stamp_chars = sorted((p for p in stamp_found if p not in (END, AFTER_OTHER)), key=lambda p: (p != " ", p))
    for char in stamp_chars:
        out += _comment(f"{_describe('stamp', char)}: {_listing(stamp_found[char])}", 4)
        out.append(f"    if first == {_quote(char)}:")
        out += _body(stamp_found[char], 8)
    out += _comment(f"{_describe('stamp', AFTER_OTHER)}: {_listing(stamp_found.get(AFTER_OTHER, []))}", 4)
    out += _body(stamp_found.get(AFTER_OTHER, []), 4)
    table = ", ".join(f"{_quote(c)}: {direct.get(c) or _line_function(c)}" for c in chars)
    out += [
        "",
        "",
        "def _build_dispatch() -> dict[str, Callable[[str, Context], dict[str, Any] | None]]:",
        _line(f"table: dict[str, Callable[[str, Context], dict[str, Any] | None]] = {{{table}}}", 4),
        "    for code in range(128):",
        "        c = chr(code)",
        "        if c in table:",
        "            continue",
        "        if c.isdecimal():",
        f"            table[c] = {_line_function(DIGIT)}",
        "        elif c.isupper():",
        f"            table[c] = {_line_function(UPPER)}",
        '        elif c.islower() or c == "_":',
        f"            table[c] = {_line_function(LOWER)}",
        "    return table",
        "",
        "",
        f"# First character -> parser; any other first character goes to {_line_function(OTHER)}.",
        "DISPATCH: Final = _build_dispatch()",
        "# fmt: on",
    ]
    return "\n".join(out) + "\n"


def _needs_rec(found: list[Candidate]) -> bool:
    return any("rec = " in line for line in _body(found, 0))


def _quote(char: str) -> str:
    return '"\\""' if char == '"' else f'"{char}"' if char != "\\" else '"\\\\"'


BEGIN = "# <generated {name}: " + COMMAND + "; do not edit>"
FINISH = "# </generated {name}>"


def _check_steps(source: str, modules: Sequence[ModuleType]) -> None:
    """Every parser named by text is a function detect.py defines by hand."""
    defined = {node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}
    for module in modules:
        for entry in module.FORMAT.entries:
            if isinstance(entry.parse, str) and entry.parse not in defined:
                raise RegistryError(f"{module.__name__}: detect.py defines no function {entry.parse!r}")


def render(source: str, modules: Sequence[ModuleType]) -> str:
    """``source`` (detect.py) with its generated regions rewritten for ``modules``."""
    _check_steps(source, modules)
    for name, text in (("imports", render_imports(modules)), ("dispatch", render_dispatch(modules))):
        begin, finish = BEGIN.format(name=name), FINISH.format(name=name)
        head, found, rest = source.partition(begin + "\n")
        if not found or finish not in rest:
            raise RegistryError(f"detect.py has no region {name!r} ({begin} ... {finish})")
        _, _, tail = rest.partition(finish)
        source = f"{head}{begin}\n{text}{finish}{tail}"
    return source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when detect.py is stale")
    args = parser.parse_args(argv)
    current = DETECT.read_text()
    wanted = render(current, registry.modules())
    if args.check:
        if wanted != current:
            print(f"{DETECT} is stale: run {COMMAND}", file=sys.stderr)
            return 1
        print(f"{DETECT} is up to date")
        return 0
    if wanted != current:
        DETECT.write_text(wanted)
        print(f"wrote {DETECT}")
    else:
        print(f"{DETECT} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
