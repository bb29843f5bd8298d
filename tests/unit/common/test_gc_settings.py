"""The collector trigger the job sets for its batches (common/gc_settings.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from common.gc_settings import DEFAULT_GEN0, tune_for_batches


@pytest.fixture(autouse=True)
def _restore_threshold() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_young_generation_waits_for_a_batch_worth_of_allocations() -> None:
    assert tune_for_batches({}) == DEFAULT_GEN0
    assert gc.get_threshold() == (DEFAULT_GEN0, 10, 10)


def test_the_threshold_comes_from_the_environment_and_zero_leaves_python_alone() -> None:
    assert tune_for_batches({"LOGFLOW_GC_GEN0": "5000"}) == 5000
    assert gc.get_threshold() == (5000, 10, 10)
    gc.set_threshold(700, 10, 10)
    assert tune_for_batches({"LOGFLOW_GC_GEN0": "0"}) == 0
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize("raw", ["lots", "-1"])
def test_a_bad_value_names_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match="LOGFLOW_GC_GEN0"):
        tune_for_batches({"LOGFLOW_GC_GEN0": raw})
    assert gc.get_threshold() == (700, 10, 10)
