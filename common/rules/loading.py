"""Reading rules from a JSON or YAML file: one rule, a list of rules, or ``{"rules": [...]}``."""

from __future__ import annotations

import json
from pathlib import Path

import yaml


def parse_rules_text(text: str, *, yaml_syntax: bool) -> list[object]:
    data = yaml.safe_load(text) if yaml_syntax else json.loads(text)
    if isinstance(data, dict) and set(data) == {"rules"}:
        data = data["rules"]
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return data
    raise ValueError("a rules file must hold a rule object, a list of rules, or {'rules': [...]}")


def load_rules_file(path: str | Path) -> list[object]:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".json", ".yaml", ".yml"}:
        raise ValueError(f"{path}: rules files must end in .json, .yaml or .yml")
    return parse_rules_text(path.read_text(encoding="utf-8"), yaml_syntax=suffix != ".json")
