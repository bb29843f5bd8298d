"""The format registry: every format module is registered, and each entry uses the right interface."""

import importlib
import pkgutil

import common.parsing.formats as formats_package
from common.parsing import detect, registry
from common.parsing.format import Format


def _declared() -> dict[str, Format]:
    found: dict[str, Format] = {}
    for info in pkgutil.iter_modules(formats_package.__path__):
        module = importlib.import_module(f"common.parsing.formats.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Format):
                found[f"{info.name}.{value.name}"] = value
    return found


def _registered() -> list[Format]:
    steps = detect._STEPS
    entries = [c.format for shape in registry.candidates(steps).values() for c in shape]
    entries += [c.format for c in registry.payload_candidates(steps)]
    entries += [c.format for shape in registry.AFTER_STAMP.values() for c in shape]
    return entries


def test_every_declared_format_is_registered_somewhere() -> None:
    registered = {id(f) for f in _registered()}
    missing = [name for name, f in _declared().items() if id(f) not in registered]
    assert missing == []


def test_line_candidates_parse_lines_and_stamp_candidates_follow_stamps() -> None:
    steps = detect._STEPS
    for line_shape in registry.candidates(steps).values():
        assert all(c.format.line is not None for c in line_shape)
    for after_stamp in registry.AFTER_STAMP.values():
        assert all(c.format.after_stamp is not None for c in after_stamp)


def test_every_first_character_has_a_shape() -> None:
    shapes = registry.candidates(detect._STEPS)
    for code in range(0x250):
        assert registry.shape_of(chr(code)) in shapes
