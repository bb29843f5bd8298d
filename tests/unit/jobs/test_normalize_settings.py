"""The normalize operator carries the submitter's parse settings to its workers."""

from __future__ import annotations

import pickle

import pytest
from pyflink.common import Types
from pyflink.datastream import OutputTag
from pyflink.datastream.state import MapStateDescriptor

from jobs.control.config import JobConfig
from jobs.operators.normalize import NormalizeAndApplyRules


def _operator() -> NormalizeAndApplyRules:
    return NormalizeAndApplyRules(
        JobConfig(),
        MapStateDescriptor("rules", Types.STRING(), Types.STRING()),
        OutputTag("alerts", Types.STRING()),
        OutputTag("threshold", Types.PICKLED_BYTE_ARRAY()),
        OutputTag("errors", Types.PICKLED_BYTE_ARRAY()),
    )


def test_parse_settings_travel_with_the_function(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGFLOW_PARSE_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("LOGFLOW_PARSE_MAX_BYTES", "4096")
    shipped = pickle.loads(pickle.dumps(_operator()))
    # What a TaskManager's worker sees: not the submitter's environment, only what was pickled.
    monkeypatch.delenv("LOGFLOW_PARSE_TIMEZONE")
    monkeypatch.delenv("LOGFLOW_PARSE_MAX_BYTES")
    assert shipped._parse_env == {"LOGFLOW_PARSE_TIMEZONE": "Europe/Paris", "LOGFLOW_PARSE_MAX_BYTES": "4096"}


def test_a_bad_parse_setting_fails_at_submission(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGFLOW_PARSE_TIMEZONE", "Nowhere/Atlantis")
    with pytest.raises(ValueError):
        _operator()
