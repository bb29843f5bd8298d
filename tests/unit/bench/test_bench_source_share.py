"""The source-share benchmark's pure parts: variant choice and order, progress files, figures, summary."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))

from bench_peer import Sample  # noqa: E402
from bench_source_share import (  # noqa: E402
    JVM,
    PYTHON,
    TASKMANAGERS,
    VariantRun,
    parse_args,
    parse_variants,
    read_progress,
    round_order,
    run_figures,
    summary,
    table,
)
from source_share_job import ProgressFile, bench_config  # noqa: E402
from source_share_job import parse_args as job_args  # noqa: E402


def test_variants_are_known_letters_each_once_in_the_order_given() -> None:
    assert parse_variants("b, a,B,c") == ("B", "A", "C")
    with pytest.raises(ValueError, match="unknown variant 'E'"):
        parse_variants("A,E")


def test_a_bad_variant_or_empty_measurement_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--variants", "A,X"], ["--runs", "0"]):
        with pytest.raises(SystemExit):
            parse_args(argv)
    assert "--events and --runs must be at least 1" in capsys.readouterr().err


def test_the_defaults_are_the_jobs_bundles_and_every_variant() -> None:
    settings = parse_args([])
    assert settings.variants == ("A", "B", "C", "D")
    assert (settings.events, settings.runs, settings.bundle_size, settings.bundle_time_ms) == (
        200_000,
        3,
        5000,
        100,
    )
    assert settings.warmup == 1
    assert parse_args(["--warmup", "0"]).warmup == 0


def test_a_negative_warmup_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--warmup", "-1"])
    assert "--warmup must be 0 or more" in capsys.readouterr().err


def test_each_variant_takes_each_place_once_over_as_many_rounds() -> None:
    variants = ("A", "B", "C")
    orders = [round_order(variants, r) for r in range(3)]
    assert orders == [("A", "B", "C"), ("B", "C", "A"), ("C", "A", "B")]
    assert round_order(variants, 4) == orders[1]


def test_progress_is_the_sum_of_every_instances_file_and_skips_files_being_written(tmp_path: Path) -> None:
    (tmp_path / "one").write_text("120")
    (tmp_path / "two").write_text("30")
    (tmp_path / ".two").write_text("999")  # about to replace "two"
    (tmp_path / "three").write_text("")  # created, nothing written yet
    assert read_progress(tmp_path) == 150


def test_a_progress_file_publishes_its_count_from_its_thread_and_on_stop(tmp_path: Path) -> None:
    first, second = ProgressFile(str(tmp_path)), ProgressFile(str(tmp_path))
    first.start()
    second.start()
    first.add(5)
    second.add(7)
    deadline = time.monotonic() + 5
    while read_progress(tmp_path) != 12 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert read_progress(tmp_path) == 12
    first.add(1)
    first.stop()  # the last count is written at once, not on the thread's next tick
    second.stop()
    assert read_progress(tmp_path) == 13
    assert len(list(tmp_path.iterdir())) == 2


def test_the_job_reads_its_topic_from_the_beginning_in_its_own_group_and_never_restarts() -> None:
    required = ["--variant", "A", "--name", "n", "--topic", "t", "--group", "g", "--progress-dir", "/x"]
    config = bench_config(job_args([*required, "--bundle-size", "700", "--arrow-batch-size", "300"]))
    assert (config.name, config.consumer_group, config.start_from, config.topics.logs) == (
        "n",
        "g",
        "earliest",
        ("t",),
    )
    settings = dict(config.flink_settings)
    assert config.bundle_size == 700
    assert settings["python.fn-execution.arrow.batch.size"] == "300"
    assert settings["restart-strategy.type"] == "none"


def _cpu(tm1: float, tm1_python: float, tm2: float, kafka: float = 0.0) -> dict[str, float]:
    return {
        "flink-taskmanager-1": tm1,
        "flink-taskmanager-1.children": tm1_python,
        "flink-taskmanager-2": tm2,
        "kafka": kafka,
        TASKMANAGERS: tm1 + tm2,
        PYTHON: tm1_python,
    }


def test_figures_come_from_the_10_to_90_percent_window_and_split_jvm_from_python() -> None:
    before = _cpu(0.0, 0.0, 0.0)
    samples = [
        Sample(0.0, 0, _cpu(5.0, 1.0, 1.0)),  # start-up: outside the window
        Sample(1.0, 100, _cpu(6.0, 1.5, 1.0)),  # 10% of 1,000
        Sample(2.0, 500, _cpu(6.5, 1.7, 1.2)),
        Sample(3.0, 900, _cpu(7.0, 1.9, 1.4, kafka=0.4)),  # 90%
        Sample(3.5, 1000, _cpu(7.5, 2.0, 1.5, kafka=0.5)),
    ]
    run = run_figures("B", 2, samples, 1000, before)
    assert (run.variant, run.round, run.records_per_s) == ("B", 2, 400.0)
    # 800 records from 1.0 s to 3.0 s: TaskManagers 7.0 + 1.4 - 6.0 - 1.0 = 1.4 s, Python 0.4 s.
    assert run.cpu_us_per_record[TASKMANAGERS] == pytest.approx(1750.0)
    assert run.cpu_us_per_record[PYTHON] == pytest.approx(500.0)
    assert run.cpu_us_per_record[JVM] == pytest.approx(1250.0)
    assert run.cpu_us_per_record["kafka"] == pytest.approx(500.0)
    # The whole run includes the start-up: 9.0 s of TaskManager CPU over 1,000 records.
    assert run.cpu_us_per_record_whole_run[TASKMANAGERS] == pytest.approx(9000.0)


def test_a_run_too_short_for_a_steady_state_says_so() -> None:
    samples = [Sample(0.0, 0, _cpu(0, 0, 0)), Sample(0.25, 1000, _cpu(1, 0, 0))]
    with pytest.raises(RuntimeError, match="too fast for a steady state"):
        run_figures("A", 0, samples, 1000, _cpu(0, 0, 0))


def _run(variant: str, round_index: int, rate: float, tm: float, python: float) -> VariantRun:
    cpu = {TASKMANAGERS: tm, PYTHON: python, JVM: tm - python}
    return VariantRun(variant, round_index, rate, cpu, cpu)


def test_ratios_pair_each_variant_with_a_in_the_same_round() -> None:
    runs = [
        _run("A", 0, 1000, 40, 10),
        _run("B", 0, 2000, 20, 10),
        _run("A", 1, 500, 80, 20),  # a slow round for both: the ratio holds
        _run("B", 1, 1000, 40, 20),
        _run("A", 2, 1000, 40, 10),
        _run("B", 2, 3000, 10, 5),
        _run("C", 0, 1500, 30, 5),  # C ran in round 0 only
    ]
    report = summary(runs)
    b = report["variants"]["B"]
    assert b["records_per_s"] == [2000, 1000, 3000]
    assert b["records_per_s_median"] == 2000
    assert b["taskmanager_cpu_us_per_record_median"] == 20
    ratios = report["ratio_to_A"]
    assert ratios["B"]["records_per_s"] == 2.0
    assert ratios["B"]["taskmanager_cpu_us_per_record"] == 0.5
    assert ratios["B"]["jvm_cpu_us_per_record"] == pytest.approx(1 / 3, abs=1e-3)
    assert ratios["C"] == {
        "records_per_s": 1.5,
        "taskmanager_cpu_us_per_record": 0.75,
        "jvm_cpu_us_per_record": round(25 / 30, 3),
        "python_cpu_us_per_record": 0.5,
        "rounds": 1,
    }
    assert "A" not in ratios
    rendered = table(report)
    assert "| B: DataStream KafkaSource" in rendered and "| 2.0 | 0.5 |" in rendered


def test_without_a_there_are_no_ratios() -> None:
    report = summary([_run("B", 0, 2000, 20, 10)])
    assert report["ratio_to_A"] == {}
    assert "| - | - |" in table(report)
