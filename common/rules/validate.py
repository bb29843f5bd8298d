"""Complete validation of rules: every error names the JSON path at fault and says why.

Hand-written rather than delegated to a JSON Schema library so that messages are specific ("RE2
cannot compile this pattern: missing )" at ``$.then[0].pattern``) and so that the checks a schema
cannot express (regexes compile, extract groups exist, sizes, duplicate ids) live in the same pass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.json_types import json_type_name
from common.rules.conditions import durable_groups
from common.rules.regex import RegexError, compile_pattern, expand_grok, group_names
from common.schema.rule import (
    ACTION_KEYS,
    ACTIONS,
    DATASET_PATTERN,
    FIELD_PATH_PATTERN,
    MAX_ACTIONS_PER_RULE,
    MAX_CONDITION_DEPTH,
    MAX_CONDITION_GROUPS,
    MAX_CONDITIONS_PER_RULE,
    MAX_DESCRIPTION_LENGTH,
    MAX_FIELD_PATH_LENGTH,
    MAX_FIELD_PATH_SEGMENTS,
    MAX_GROUP_BY_FIELDS,
    MAX_IN_VALUES,
    MAX_PATTERN_LENGTH,
    MAX_PRIORITY,
    MAX_RULES,
    MAX_SET_VALUE_BYTES,
    MAX_STRING_VALUE_LENGTH,
    MAX_TEMPLATE_LENGTH,
    MAX_THRESHOLD_COUNT,
    MAX_THRESHOLD_WINDOW_SECONDS,
    MIN_PRIORITY,
    NUMERIC_OPERATORS,
    OPERATORS,
    RULE_ID_PATTERN,
    RULE_OPTIONAL,
    RULE_REQUIRED,
    SEVERITIES,
    STRING_OPERATORS,
    THRESHOLD_OPTIONAL,
    THRESHOLD_REQUIRED,
    WINDOW_PATTERN,
)


@dataclass(frozen=True)
class RuleError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class RuleValidationError(ValueError):
    def __init__(self, errors: list[RuleError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:10]) + (" ..." if len(errors) > 10 else ""))


_RULE_ID = re.compile(RULE_ID_PATTERN)
_DATASET = re.compile(DATASET_PATTERN)
_FIELD = re.compile(FIELD_PATH_PATTERN)
_WINDOW = re.compile(WINDOW_PATTERN)
_WINDOW_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RULE_KEYS = frozenset((*RULE_REQUIRED, *RULE_OPTIONAL))
_ACTION_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    name: (frozenset(required), frozenset(optional)) for name, (required, optional) in ACTION_KEYS.items()
}
_THRESHOLD_KEYS = (*THRESHOLD_REQUIRED, *THRESHOLD_OPTIONAL)


def window_seconds(window: str | int) -> int:
    """``"5m"`` -> 300; an int is already seconds. Only call on validated input."""
    if isinstance(window, int):
        return window
    return int(window[:-1]) * _WINDOW_UNITS[window[-1]]


_DOUBLE_MAX = 1.7976931348623157e308


def _is_scalar(value: object) -> bool:
    if isinstance(value, bool | str):
        return True
    # Numbers must be finite doubles (no NaN, no infinity, no integer beyond a double's range).
    return isinstance(value, int | float) and -_DOUBLE_MAX <= value <= _DOUBLE_MAX


class _Checker:
    def __init__(self) -> None:
        self.errors: list[RuleError] = []
        self.conditions = 0

    def error(self, path: str, message: str) -> None:
        self.errors.append(RuleError(path, message))

    def unknown_keys(self, obj: Mapping[str, Any], allowed: Iterable[str], path: str, what: str) -> None:
        allowed_set = set(allowed)
        for key in obj:
            if key not in allowed_set:
                self.error(
                    f"{path}.{key}",
                    f"unknown key {key!r} in {what}; allowed: {', '.join(sorted(allowed_set))}",
                )

    def field_path(self, value: object, path: str) -> bool:
        if not isinstance(value, str):
            self.error(path, f"a field path must be a string, got {json_type_name(value)}")
            return False
        if len(value) > MAX_FIELD_PATH_LENGTH or value.count(".") + 1 > MAX_FIELD_PATH_SEGMENTS:
            self.error(
                path,
                f"field path is too long (limit {MAX_FIELD_PATH_LENGTH} characters, "
                f"{MAX_FIELD_PATH_SEGMENTS} segments)",
            )
            return False
        if not _FIELD.match(value):
            self.error(path, f"{value!r} is not a dotted field path like 'process.name'")
            return False
        return True

    def string(self, value: object, path: str, *, max_length: int, min_length: int = 1) -> bool:
        if not isinstance(value, str):
            self.error(path, f"must be a string, got {json_type_name(value)}")
            return False
        if len(value) < min_length:
            self.error(path, "must not be empty")
            return False
        if len(value) > max_length:
            self.error(path, f"is {len(value)} characters; the limit is {max_length}")
            return False
        return True

    def pattern(self, value: object, path: str, *, grok: bool) -> Any:
        if not self.string(value, path, max_length=MAX_PATTERN_LENGTH):
            return None
        assert isinstance(value, str)
        try:
            expanded = expand_grok(value).pattern if grok else value
            return compile_pattern(expanded)
        except RegexError as exc:
            self.error(path, str(exc))
            return None

    # -- conditions ---------------------------------------------------------------------------

    def condition(self, cond: object, path: str, depth: int) -> None:
        if not isinstance(cond, dict):
            self.error(path, f"a condition must be an object, got {json_type_name(cond)}")
            return
        if depth > MAX_CONDITION_DEPTH:
            self.error(path, f"conditions are nested deeper than {MAX_CONDITION_DEPTH} levels")
            return
        combinators = [k for k in ("all", "any", "not") if k in cond]
        if combinators:
            if len(cond) != 1:
                self.error(
                    path,
                    f"a {combinators[0]!r} condition must have exactly one key, "
                    f"got {', '.join(sorted(cond))}",
                )
                return
            key = combinators[0]
            child_path = f"{path}.{key}"
            if key == "not":
                self.condition(cond["not"], child_path, depth + 1)
                return
            children = cond[key]
            if not isinstance(children, list):
                self.error(child_path, f"must be an array of conditions, got {json_type_name(children)}")
                return
            if not children:
                self.error(child_path, "must hold at least one condition")
            for i, child in enumerate(children):
                self.condition(child, f"{child_path}[{i}]", depth + 1)
            return
        self.field_condition(cond, path)

    def condition_groups(self, when: Mapping[str, Any], path: str) -> None:
        """A limit of durable-rules that the structure alone does not show (``durable_groups``)."""
        groups = durable_groups(when)
        if groups > MAX_CONDITION_GROUPS:
            self.error(
                path,
                f"needs {groups} and/or groups in durable-rules, which allows {MAX_CONDITION_GROUPS} "
                "per rule: count one for the rule itself and one for each all/any of several "
                "conditions, negated comparison, in-list and not-in list (two); split the rule",
            )

    def field_condition(self, cond: Mapping[str, Any], path: str) -> None:
        self.conditions += 1
        if self.conditions == MAX_CONDITIONS_PER_RULE + 1:
            self.error(path, f"a rule may hold at most {MAX_CONDITIONS_PER_RULE} field conditions")
        self.unknown_keys(cond, ("field", "op", "value"), path, "a field condition (or use all/any/not)")
        if "field" not in cond:
            self.error(f"{path}.field", "missing required key 'field'")
        else:
            self.field_path(cond["field"], f"{path}.field")
        op = cond.get("op")
        if "op" not in cond:
            self.error(f"{path}.op", "missing required key 'op'")
            return
        if op not in OPERATORS:
            self.error(f"{path}.op", f"unknown operator {op!r}; allowed: {', '.join(OPERATORS)}")
            return
        vpath = f"{path}.value"
        if op == "exists":
            if "value" in cond and not isinstance(cond["value"], bool):
                self.error(vpath, f"'exists' takes an optional boolean, got {json_type_name(cond['value'])}")
            return
        if "value" not in cond:
            self.error(vpath, f"operator {op!r} needs a 'value'")
            return
        value = cond["value"]
        if op in NUMERIC_OPERATORS:
            if isinstance(value, bool) or not isinstance(value, int | float) or not _is_scalar(value):
                self.error(vpath, f"operator {op!r} compares finite numbers; got {json_type_name(value)}")
        elif op in STRING_OPERATORS:
            if op == "contains" and _is_scalar(value) and not isinstance(value, str):
                return  # a number or boolean is a valid element to look for in an array field
            if not self.string(
                value, vpath, max_length=MAX_PATTERN_LENGTH if op == "matches" else MAX_STRING_VALUE_LENGTH
            ):
                return
            if op == "matches":
                self.pattern(value, vpath, grok=False)
        elif op == "in":
            if not isinstance(value, list) or not value:
                self.error(vpath, f"operator 'in' needs a non-empty array, got {json_type_name(value)}")
                return
            if len(value) > MAX_IN_VALUES:
                self.error(vpath, f"holds {len(value)} values; the limit is {MAX_IN_VALUES}")
            for i, item in enumerate(value):
                self.scalar(item, f"{vpath}[{i}]")
        else:  # eq, ne
            self.scalar(value, vpath)

    def scalar(self, value: object, path: str) -> None:
        if not _is_scalar(value):
            self.error(path, f"must be a string, number or boolean, got {json_type_name(value)}")
        elif isinstance(value, str) and len(value) > MAX_STRING_VALUE_LENGTH:
            self.error(path, f"is {len(value)} characters; the limit is {MAX_STRING_VALUE_LENGTH}")

    # -- actions ------------------------------------------------------------------------------

    def action(self, act: object, path: str) -> None:
        if not isinstance(act, dict):
            self.error(path, f"an action must be an object, got {json_type_name(act)}")
            return
        name = act.get("action")
        if "action" not in act:
            self.error(f"{path}.action", "missing required key 'action'")
            return
        if name not in _ACTION_KEYS:
            self.error(f"{path}.action", f"unknown action {name!r}; allowed: {', '.join(ACTIONS)}")
            return
        required, optional = _ACTION_KEYS[name]
        self.unknown_keys(act, {"action"} | required | optional, path, f"a {name!r} action")
        for key in sorted(required):
            if key not in act:
                self.error(f"{path}.{key}", f"missing required key {key!r} for a {name!r} action")
        getattr(self, f"action_{name}")(act, path)

    def action_set(self, act: Mapping[str, Any], path: str) -> None:
        if "field" in act:
            self.field_path(act["field"], f"{path}.field")
        if "value" in act:
            try:
                size = len(json.dumps(act["value"], allow_nan=False))
            except (TypeError, ValueError):
                self.error(f"{path}.value", "must be a JSON value (no NaN or infinity)")
                return
            if size > MAX_SET_VALUE_BYTES:
                self.error(f"{path}.value", f"is {size} bytes as JSON; the limit is {MAX_SET_VALUE_BYTES}")

    def action_remove(self, act: Mapping[str, Any], path: str) -> None:
        if "field" in act:
            self.field_path(act["field"], f"{path}.field")

    def action_rename(self, act: Mapping[str, Any], path: str) -> None:
        ok = "field" in act and self.field_path(act["field"], f"{path}.field")
        ok = "to" in act and self.field_path(act["to"], f"{path}.to") and ok
        if ok:
            src, dst = act["field"], act["to"]
            if src == dst or dst.startswith(src + ".") or src.startswith(dst + "."):
                self.error(f"{path}.to", f"cannot rename {src!r} onto itself or its own parent/child {dst!r}")

    def action_tag(self, act: Mapping[str, Any], path: str) -> None:
        if "value" in act:
            self.string(act["value"], f"{path}.value", max_length=256)

    def action_extract(self, act: Mapping[str, Any], path: str) -> None:
        if "field" in act:
            self.field_path(act["field"], f"{path}.field")
        if "pattern" not in act:
            return
        compiled = self.pattern(act["pattern"], f"{path}.pattern", grok=True)
        if compiled is None:
            return
        grok_fields = expand_grok(act["pattern"]).fields
        named = group_names(compiled) - set(grok_fields)
        into = act.get("into")
        if into is None:
            if not grok_fields:
                self.error(
                    f"{path}.into",
                    "an extract needs 'into' (group name -> field path) unless its pattern names fields "
                    "with %{PATTERN:field.path}",
                )
            return
        if not isinstance(into, dict):
            self.error(
                f"{path}.into",
                f"must be an object mapping group names to field paths, got {json_type_name(into)}",
            )
            return
        if not into and not grok_fields:
            self.error(f"{path}.into", "must map at least one named group to a field")
        for group, target in into.items():
            if group not in named:
                known = ", ".join(sorted(named)) or "none"
                self.error(
                    f"{path}.into.{group}",
                    f"the pattern has no named group {group!r} (named groups: {known})",
                )
            self.field_path(target, f"{path}.into.{group}")

    def action_route(self, act: Mapping[str, Any], path: str) -> None:
        dataset = act.get("dataset")
        if "dataset" in act and (not isinstance(dataset, str) or not _DATASET.match(dataset)):
            self.error(
                f"{path}.dataset",
                f"must be a lowercase dataset name matching {DATASET_PATTERN} (it names the target index)",
            )

    def action_mask(self, act: Mapping[str, Any], path: str) -> None:
        if "field" in act:
            self.field_path(act["field"], f"{path}.field")
        if "pattern" in act:
            self.pattern(act["pattern"], f"{path}.pattern", grok=True)
        if "replacement" in act:
            self.string(act["replacement"], f"{path}.replacement", max_length=256, min_length=0)

    def action_drop(self, act: Mapping[str, Any], path: str) -> None:
        return

    def action_alert(self, act: Mapping[str, Any], path: str) -> None:
        if "severity" in act and act["severity"] not in SEVERITIES:
            self.error(
                f"{path}.severity", f"unknown severity {act['severity']!r}; allowed: {', '.join(SEVERITIES)}"
            )
        if "message" in act:
            self.string(act["message"], f"{path}.message", max_length=MAX_TEMPLATE_LENGTH)
        if "threshold" not in act:
            return
        tpath = f"{path}.threshold"
        threshold = act["threshold"]
        if not isinstance(threshold, dict):
            self.error(
                tpath, f"must be an object with count, window and group_by, got {json_type_name(threshold)}"
            )
            return
        self.unknown_keys(threshold, _THRESHOLD_KEYS, tpath, "a threshold")
        count = threshold.get("count")
        if "count" not in threshold:
            self.error(f"{tpath}.count", "missing required key 'count'")
        elif isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_THRESHOLD_COUNT:
            self.error(f"{tpath}.count", f"must be an integer from 1 to {MAX_THRESHOLD_COUNT}")
        if "window" not in threshold:
            self.error(f"{tpath}.window", "missing required key 'window'")
        else:
            self.window(threshold["window"], f"{tpath}.window")
        if "group_by" in threshold:
            group_by = threshold["group_by"]
            if not isinstance(group_by, list):
                self.error(
                    f"{tpath}.group_by", f"must be an array of field paths, got {json_type_name(group_by)}"
                )
                return
            if len(group_by) > MAX_GROUP_BY_FIELDS:
                self.error(
                    f"{tpath}.group_by", f"holds {len(group_by)} fields; the limit is {MAX_GROUP_BY_FIELDS}"
                )
            for i, field in enumerate(group_by):
                self.field_path(field, f"{tpath}.group_by[{i}]")

    def window(self, window: object, path: str) -> None:
        if isinstance(window, bool) or not isinstance(window, int | str):
            got = json_type_name(window)
            self.error(path, f"must be seconds (integer) or a duration like '5m', got {got}")
            return
        if isinstance(window, str) and not _WINDOW.match(window):
            self.error(path, f"{window!r} is not a duration like '30s', '5m', '1h' or '1d'")
            return
        seconds = window_seconds(window)
        if not 1 <= seconds <= MAX_THRESHOLD_WINDOW_SECONDS:
            self.error(path, f"must be between 1 second and {MAX_THRESHOLD_WINDOW_SECONDS} seconds")

    # -- the rule -----------------------------------------------------------------------------

    def rule(self, obj: object, path: str) -> None:
        if not isinstance(obj, dict):
            self.error(path, f"a rule must be an object, got {json_type_name(obj)}")
            return
        self.unknown_keys(obj, _RULE_KEYS, path, "a rule")
        for key in ("id", "when", "then"):
            if key not in obj:
                self.error(f"{path}.{key}", f"missing required key {key!r}")
        if "id" in obj and (not isinstance(obj["id"], str) or not _RULE_ID.match(obj["id"])):
            self.error(
                f"{path}.id", f"must match {RULE_ID_PATTERN} (lowercase letters, digits, '.', '_', '-')"
            )
        if "description" in obj:
            self.string(
                obj["description"], f"{path}.description", max_length=MAX_DESCRIPTION_LENGTH, min_length=0
            )
        if "enabled" in obj and not isinstance(obj["enabled"], bool):
            self.error(f"{path}.enabled", f"must be a boolean, got {json_type_name(obj['enabled'])}")
        if "priority" in obj:
            priority = obj["priority"]
            if isinstance(priority, bool) or not isinstance(priority, int):
                self.error(f"{path}.priority", f"must be an integer, got {json_type_name(priority)}")
            elif not MIN_PRIORITY <= priority <= MAX_PRIORITY:
                self.error(f"{path}.priority", f"must be between {MIN_PRIORITY} and {MAX_PRIORITY}")
        if "when" in obj:
            errors_before = len(self.errors)
            self.condition(obj["when"], f"{path}.when", 1)
            if len(self.errors) == errors_before:
                self.condition_groups(obj["when"], f"{path}.when")
        if "then" in obj:
            then = obj["then"]
            if not isinstance(then, list):
                self.error(f"{path}.then", f"must be an array of actions, got {json_type_name(then)}")
            elif not then:
                self.error(f"{path}.then", "must hold at least one action")
            elif len(then) > MAX_ACTIONS_PER_RULE:
                self.error(f"{path}.then", f"holds {len(then)} actions; the limit is {MAX_ACTIONS_PER_RULE}")
            else:
                for i, act in enumerate(then):
                    self.action(act, f"{path}.then[{i}]")


def validate_rule(obj: object, path: str = "$") -> list[RuleError]:
    """All problems with one rule, each with its JSON path; empty when the rule is valid."""
    checker = _Checker()
    checker.rule(obj, path)
    return checker.errors


def validate_ruleset(objs: Sequence[object]) -> list[RuleError]:
    """Validate each rule (paths ``$[i]...``), plus duplicate ids and the rule count limit."""
    if not isinstance(objs, list | tuple):
        return [RuleError("$", f"a rule set must be an array of rules, got {json_type_name(objs)}")]
    errors: list[RuleError] = []
    if len(objs) > MAX_RULES:
        errors.append(RuleError("$", f"holds {len(objs)} rules; the limit is {MAX_RULES}"))
    seen: dict[str, int] = {}
    for i, obj in enumerate(objs):
        errors.extend(validate_rule(obj, f"$[{i}]"))
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            rule_id = obj["id"]
            if rule_id in seen:
                errors.append(
                    RuleError(f"$[{i}].id", f"duplicate rule id {rule_id!r} (first at $[{seen[rule_id]}])")
                )
            else:
                seen[rule_id] = i
    return errors
