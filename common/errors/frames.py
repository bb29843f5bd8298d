"""Stack frames out of ``error.stack_trace`` text: Java/Kotlin, .NET, Node, Python and Go panics.

Each frame becomes one stable string (module or file plus function) with line numbers, addresses
and compiler-generated names left out; see docs/errors.md for the rules per language. Frames of
the runtime (the JDK, the CLR, the Python standard library and site-packages, the Go runtime and
standard library, Node's internals and node_modules) are kept apart from the application's, so the
fingerprint can prefer the application's own frames.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

MAX_FRAMES: Final = 40  # per trace; deeper frames are recursion or framework plumbing

_JVM_RUNTIME: Final = ("java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "kotlinx.", "scala.")
_DOTNET_RUNTIME: Final = ("System.", "Microsoft.", "Windows.")

# Node: `at fn (location:line:col)`, `at location:line:col`, `at async fn (index 0)`.
_NODE_AT: Final = re.compile(r"at (?:async )?(?:new )?(?:(.+?) \((.*)\)|(\S+:\d+:\d+))$")
_NODE_LINE_COL: Final = re.compile(r":\d+:\d+$")
_NODE_ALIAS: Final = re.compile(r" \[as [^\]]*\]$")
_PY_FRAME: Final = re.compile(r'\s*File "([^"]*)", line \d+(?:, in (.+))?$')
_PY_EXCEPTION: Final = re.compile(r"([A-Za-z_][\w.]*)(?::|$)")
_TYPE_NAME: Final = re.compile(r"[A-Za-z_][\w.$]*")
# Java reflection accessors (`GeneratedMethodAccessor12`); `$$` proxies, lambdas and `$Proxy12` by `in`.
_JVM_GENERATED_CLASS: Final = re.compile(r"(?:^|\.)Generated\w*Accessor\d")
_JVM_ANONYMOUS: Final = re.compile(r"\$\d+")
_JVM_LAMBDA: Final = re.compile(r"^lambda\$(.*?)\$\d+$")
# .NET: `<Main>b__0_0`, `<RunAsync>d__5`, `<Main>g__Local|0_0`, closures `+<>c`, `<>c__DisplayClass3_0`.
_DOTNET_STATE_MACHINE: Final = re.compile(r"[.+]<([\w]+)>d__\d+\.MoveNext$")
_DOTNET_GENERATED: Final = re.compile(r"<([\w]*)>[\w]__[\w|]*")
_DOTNET_CLOSURE: Final = re.compile(r"[.+]<>c(?:__DisplayClass[\w]*)?")
# Go: closures and wrappers (`func1`, `func2.3`, `gowrap1`), and the call's arguments.
_GO_GENERATED: Final = re.compile(r"\.(?:func|gowrap|deferwrap)\d+(?:\.\d+)*")
_GO_ARGS: Final = re.compile(r"\((?!\*)[^()]*\)$")
_PY_GENERATED: Final = frozenset(("<lambda>", "<genexpr>", "<listcomp>", "<dictcomp>", "<setcomp>"))


@dataclass
class Frames:
    """A trace's frames in order (outermost first as printed), split by ownership."""

    app: list[str] = field(default_factory=list)
    runtime: list[str] = field(default_factory=list)

    def add(self, frame: str, runtime: bool) -> None:
        if len(self.app) + len(self.runtime) < MAX_FRAMES:
            (self.runtime if runtime else self.app).append(frame)

    def preferred(self) -> list[str]:
        """The application's frames when there are any, else the runtime's."""
        return self.app if self.app else self.runtime


def _short_path(path: str) -> str:
    """A file's last two path components: deploy roots and release directories drop out."""
    path = path.replace("\\", "/")
    if path.startswith("file://"):
        path = path[7:]
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[-2:])


def _jvm_or_dotnet(qualified: str, frames: Frames) -> None:
    if "<" in qualified or "+" in qualified or "lambda_method" in qualified:
        # .NET: compiler-generated closures, lambdas, local functions and async state machines
        # are folded into the method that wrote them.
        if "lambda_method" in qualified:
            return
        qualified = _DOTNET_STATE_MACHINE.sub(r".\1", qualified)
        qualified = _DOTNET_CLOSURE.sub("", qualified)
        qualified = _DOTNET_GENERATED.sub(r"\1", qualified).replace("+", ".")
        frames.add(qualified, qualified.startswith(_DOTNET_RUNTIME))
        return
    cls, _, method = qualified.rpartition(".")
    if not cls:
        return
    if "$" in cls:
        if "$$" in cls or "$Proxy" in cls:
            return  # proxies and lambda classes: the real method's frame is next to them
        cls = _JVM_ANONYMOUS.sub("", cls)
    if "Generated" in cls and _JVM_GENERATED_CLASS.search(cls) is not None:
        return  # reflection accessors
    if method.startswith("lambda$"):
        lam = _JVM_LAMBDA.match(method)
        if lam is not None:
            method = lam.group(1)
    runtime = cls.startswith(_JVM_RUNTIME) or cls.startswith(_DOTNET_RUNTIME)
    frames.add(cls + "." + method, runtime)


def _dotted_name(line: str) -> str | None:
    """``at [module/]qualified.Name.method(...)`` -> ``qualified.Name.method`` (None: not that shape)."""
    paren = line.find("(", 3)
    if paren < 0:
        return None
    name = line[3:paren]
    if " " in name or not name:
        return None
    slash = name.rfind("/")
    # A Java module prefix (`java.base@17/`, `app//`) has no `$`; a hidden class's `/0x...` does.
    if slash >= 0 and "$" not in name[:slash]:
        name = name[slash + 1 :]
    return name


def _node(line: str, frames: Frames) -> bool:
    m = _NODE_AT.match(line)
    if m is None:
        return False
    function = m.group(1)
    location = m.group(2) if m.group(2) is not None else m.group(3)
    if (
        m.group(2) is not None
        and not _NODE_LINE_COL.search(location)
        and location not in ("native", "<anonymous>")
        and not location.startswith("index ")
    ):
        return False  # `at pkg.Class.method(File.java:1)` never has the space; this is not Node
    file = _NODE_LINE_COL.sub("", location)
    runtime = (
        file.startswith("node:")
        or file.startswith("internal/")
        or "node_modules/" in file
        or file in ("native", "<anonymous>")
        or file.startswith("index ")
    )
    name = _NODE_ALIAS.sub("", function) if function is not None else ""
    if name.endswith("<anonymous>") or name == "":
        name = ""  # `Object.<anonymous>`: the module's top level, named by its file alone
    where = file if runtime and file.startswith("node:") else _short_path(file)
    frames.add(f"{where}:{name}" if name else where, runtime)
    return True


def _at_frames(lines: list[str], frames: Frames) -> None:
    skipping = False
    for raw in lines:
        line = raw.strip()
        if line.startswith("Suppressed:"):
            skipping = True  # suppressed exceptions are incidental to this one
            continue
        if line.startswith("Caused by:") or line.startswith("--->"):
            skipping = False
            continue
        if skipping or not line.startswith("at "):
            continue
        if (" (" in line or (line[-1] != ")" and _NODE_LINE_COL.search(line))) and _node(line, frames):
            continue
        name = _dotted_name(line)
        if name is not None:
            _jvm_or_dotnet(name, frames)


def _python_runtime(path: str) -> bool:
    lowered = path.replace("\\", "/").lower()
    return (
        "/lib/python" in lowered
        or "site-packages/" in lowered
        or "dist-packages/" in lowered
        or lowered.startswith("<frozen")
        or ("/lib/" in lowered and "python" in lowered)  # Windows: C:\Python311\Lib\...
    )


def _python_frames(lines: list[str], frames: Frames) -> None:
    for line in lines:
        if 'File "' not in line:
            continue
        m = _PY_FRAME.match(line)
        if m is None:
            continue
        path = m.group(1)
        function = m.group(2) or ""
        where = _short_path(path)
        if function in _PY_GENERATED:
            frames.add(where, _python_runtime(path))
        else:
            frames.add(f"{where}:{function}" if function else where, _python_runtime(path))


def _go_frames(lines: list[str], frames: Frames) -> None:
    in_goroutine = False
    for line in lines:
        if line.startswith("goroutine "):
            if in_goroutine:
                break  # a dump of all goroutines: only the first (the panicking one) matters
            in_goroutine = True
            continue
        if not in_goroutine or not line or line[0] in " \t":
            continue
        function = line[11:].rsplit(" in goroutine ", 1)[0] if line.startswith("created by ") else line
        function = _GO_ARGS.sub("", function)
        function = _GO_GENERATED.sub("", function)
        frames.add(function, _go_is_std(function))


def _go_is_std(function: str) -> bool:
    first = function.split("/", 1)[0]
    if "/" not in function:
        first = function.split(".", 1)[0]
    return first != "main" and "." not in first


def extract(stack_trace: str) -> Frames:
    """The frames of one trace text, whichever of the supported languages printed it."""
    frames = Frames()
    lines = stack_trace.split("\n")
    if "goroutine " in stack_trace:
        _go_frames(lines, frames)
    elif 'File "' in stack_trace:
        _python_frames(lines, frames)
    else:
        _at_frames(lines, frames)
    return frames


def exception_types(stack_trace: str, known: str | None) -> tuple[str, str | None]:
    """The exception's type and, for a chain, its root cause's type (None when there is no chain).

    Java's ``Caused by:`` and .NET's ``--->`` name the causes in order, the last one the root;
    Python prints the root cause's traceback first, the raised exception last.
    """
    lines = stack_trace.split("\n")
    top = known or _first_type(lines)
    root: str | None = None
    if 'File "' in stack_trace and "Traceback" in stack_trace:
        seen: list[str] = []
        for line in lines:
            if line and not line[0].isspace() and not line.startswith(("Traceback", "During", "The above")):
                m = _PY_EXCEPTION.match(line)
                if m is not None:
                    seen.append(m.group(1))
        if len(seen) > 1:
            root = seen[0]
    else:
        for line in lines:
            stripped = line.strip()
            if stripped.startswith("Caused by: "):
                root = _type_of(stripped[11:])
            elif "---> " in stripped:
                root = _type_of(stripped.rsplit("---> ", 1)[1])
    if root is not None and root == top:
        root = None
    return top, root


def _type_of(text: str) -> str | None:
    m = _TYPE_NAME.match(text.strip())
    return m.group(0) if m is not None else None


def _first_type(lines: list[str]) -> str:
    """A type from the trace's first line (`TypeError: ...`, `System.Foo: ...`); empty if none."""
    for line in lines[:3]:
        stripped = line.strip()
        if not stripped or stripped.startswith("at "):
            continue
        m = _PY_EXCEPTION.match(stripped)
        if m is not None and ("." in m.group(1) or stripped[len(m.group(1)) :][:1] == ":"):
            return m.group(1)
        return ""
    return ""
