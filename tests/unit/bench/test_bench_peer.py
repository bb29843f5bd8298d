"""The peer benchmark's pure parts: its input, rsyslog's rendered config, CPU and rate accounting."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bench"))

from bench_peer import (  # noqa: E402
    Run,
    Sample,
    input_lines,
    restamp,
    run_figures,
    summary,
    with_taskmanager_totals,
)
from measure import cpu_seconds_from_stat, steady_window  # noqa: E402
from peer_rsyslog import CONFIG_TEMPLATE, RsyslogSettings, config_text, render  # noqa: E402


def test_restamp_replaces_the_date_and_keeps_the_time_of_day() -> None:
    line = b"Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown"
    assert (
        restamp(line, date(2026, 12, 3))
        == b"Dec  3 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown"
    )
    assert restamp(b"Jul  1 04:05:06 h k: x", date(2026, 11, 24)) == b"Nov 24 04:05:06 h k: x"


def test_restamp_leaves_a_line_without_a_bsd_stamp_alone() -> None:
    assert (
        restamp(b"2026-06-14T15:16:01Z host app: x", date(2026, 12, 3)) == b"2026-06-14T15:16:01Z host app: x"
    )


def test_input_lines_cycle_the_source_without_carriage_returns_or_blank_lines(tmp_path: Path) -> None:
    source = tmp_path / "syslog.log"
    source.write_bytes(b"Jun 14 15:16:01 a sshd[1]: one\r\n\r\nJun 14 15:16:02 a su[2]: two\r\n")
    lines = input_lines(5, date(2026, 12, 3), source)
    assert lines == [
        b"Dec  3 15:16:01 a sshd[1]: one",
        b"Dec  3 15:16:02 a su[2]: two",
        b"Dec  3 15:16:01 a sshd[1]: one",
        b"Dec  3 15:16:02 a su[2]: two",
        b"Dec  3 15:16:01 a sshd[1]: one",
    ]


def test_the_default_input_is_real_syslog_with_sshd_lines() -> None:
    lines = input_lines(2000, date(2026, 12, 3))
    assert len(set(lines)) > 1900
    assert sum(b" sshd" in line for line in lines) > 600
    assert all(line.startswith(b"Dec  3 ") for line in lines)


def test_render_fills_every_placeholder_and_refuses_gaps() -> None:
    assert render('topic="@TOPIC@" x="@TOPIC@"', {"TOPIC": "logs"}) == 'topic="logs" x="logs"'
    with pytest.raises(ValueError, match="missing"):
        render('topic="@TOPIC@" group="@GROUP@"', {"TOPIC": "logs"})
    with pytest.raises(ValueError, match="unused"):
        render('topic="@TOPIC@"', {"TOPIC": "logs", "GROUP": "g"})
    with pytest.raises(ValueError, match="double quote"):
        render('topic="@TOPIC@"', {"TOPIC": 'a" b'})


def _settings(url: str, username: str = "") -> RsyslogSettings:
    return RsyslogSettings(
        topic="peer-input-1",
        brokers="127.0.0.1:9092",
        consumer_group="peer-1-rsyslog-0",
        index_prefix="peer-1-rsyslog-0",
        es_url=url,
        es_major=8,
        work_dir=Path("/tmp/peer-work"),
        es_username=username,
        es_password='p"w' if username else "",
    )


def test_rsyslog_config_reads_only_kafka_and_bulk_indexes_daily() -> None:
    text = config_text(_settings("http://127.0.0.1:9201"))
    assert "@" not in text.replace("@timestamp", "")  # every placeholder filled
    # No system inputs (imuxsock, imklog): the only module that reads anything is imkafka.
    assert re.findall(r'module\(load="(\w+)"', text) == ["imkafka", "mmnormalize", "omelasticsearch"]
    assert re.findall(r'input\(type="(\w+)"', text) == ["imkafka"]
    assert 'topic="peer-input-1"' in text and 'consumerGroup="peer-1-rsyslog-0"' in text
    assert "auto.offset.reset=earliest" in text
    assert 'ruleBase="/tmp/peer-work/syslog.rulebase"' in text
    assert 'server="127.0.0.1" serverport="9201" usehttps="off"' in text
    assert 'bulkmode="on"' in text and 'dynSearchIndex="on"' in text
    assert 'queue.minDequeueBatchSize="1000" queue.minDequeueBatchSize.timeout="100"' in text
    assert 'esVersion.major="8"' in text
    assert 'constant(value="peer-1-rsyslog-0-syslog-")' in text
    assert "uid=" not in text


def test_rsyslog_config_over_https_with_basic_auth_escapes_the_password() -> None:
    text = config_text(_settings("https://es.local", username="bench"))
    assert 'server="es.local" serverport="443" usehttps="on" uid="bench" pwd="p\\"w"' in text


def test_rsyslog_config_refuses_a_url_without_a_host() -> None:
    with pytest.raises(ValueError, match="Elasticsearch URL"):
        config_text(_settings("127.0.0.1:9200"), CONFIG_TEMPLATE.read_text())


def test_cpu_seconds_from_stat_counts_user_system_and_reaped_children() -> None:
    # A command name with a space and a parenthesis, as /proc writes it; utime 250, stime 50,
    # cutime 100, cstime 0 ticks at 100 Hz.
    line = "4242 (rs main) Q:1) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 100 0 20 0 5 0 1 2 3"
    assert cpu_seconds_from_stat(line, clock_ticks=100) == pytest.approx(4.0)


def test_steady_window_spans_ten_to_ninety_percent() -> None:
    samples = [(0.0, 0), (1.0, 5), (2.0, 10), (3.0, 50), (4.0, 90), (5.0, 100)]
    assert steady_window(samples, 100) == (2, 4)


def _samples(side_key: str) -> list[Sample]:
    # 1,000 docs: 10% at t=2 (cpu 1.0 s), 90% at t=6 (cpu 1.8 s): 800 docs in 4 s for 0.8 s of CPU.
    return [
        Sample(0.0, 0, {side_key: 0.5, "elasticsearch": 0.0}),
        Sample(1.0, 50, {side_key: 0.8, "elasticsearch": 0.1}),
        Sample(2.0, 100, {side_key: 1.0, "elasticsearch": 0.2}),
        Sample(6.0, 900, {side_key: 1.8, "elasticsearch": 1.8}),
        Sample(7.0, 1000, {side_key: 2.0, "elasticsearch": 2.0}),
    ]


def test_run_figures_take_rate_and_cpu_over_the_steady_window() -> None:
    run = run_figures("rsyslog", 0, _samples("rsyslogd"), 1000, before={"elasticsearch": 0.0})
    assert run.docs_per_s == pytest.approx(200.0)
    assert run.first_to_last_docs_per_s == pytest.approx(950 / 6)
    assert run.cpu_us_per_doc == {"rsyslogd": 1000.0, "elasticsearch": 2000.0}
    # Whole run: from the snapshot before the start; rsyslogd did not exist then (0 s).
    assert run.cpu_us_per_doc_whole_run == {"rsyslogd": 2000.0, "elasticsearch": 2000.0}


def test_run_figures_refuse_a_run_too_short_for_a_steady_state() -> None:
    samples = [Sample(0.0, 0, {}), Sample(1.0, 1000, {})]
    with pytest.raises(RuntimeError, match="steady state"):
        run_figures("logflow", 0, samples, 1000, before={})


def _run(side: str, pair: int, rate: float, processing: float, es: float) -> Run:
    key = "rsyslogd" if side == "rsyslog" else "taskmanagers"
    cpu = {key: processing, "elasticsearch": es, "taskmanagers.python": processing / 2}
    return Run(side, pair, rate, rate, cpu, cpu)


def test_summary_gives_medians_and_median_per_pair_ratios() -> None:
    runs = [
        _run("rsyslog", 0, 20000, 20, 40),
        _run("logflow", 0, 10000, 50, 50),
        _run("logflow", 1, 15000, 40, 45),
        _run("rsyslog", 1, 25000, 16, 40),
        _run("rsyslog", 2, 30000, 18, 36),
        _run("logflow", 2, 12000, 54, 54),
    ]
    report = summary(runs)
    assert report["pairs"] == 3
    assert report["rsyslog"]["docs_per_s_median"] == 25000
    assert report["logflow"]["processing_cpu_us_per_doc_median"] == 50
    assert report["logflow"]["python_workers_cpu_us_per_doc_median"] == 25
    ratios = report["logflow_over_rsyslog"]
    assert ratios["docs_per_s"] == 0.5  # per pair: 0.5, 0.6, 0.4
    assert ratios["processing_cpu_per_doc"] == 2.5  # 2.5, 2.5, 3.0
    assert ratios["elasticsearch_cpu_per_doc"] == 1.25  # 1.25, 1.125, 1.5


def test_summary_of_a_pair_that_did_not_finish_has_no_ratio() -> None:
    report = summary([_run("rsyslog", 0, 20000, 20, 40)])
    assert report["pairs"] == 0
    assert "logflow" not in report
    assert report["logflow_over_rsyslog"]["docs_per_s"] is None


def test_taskmanager_totals_sum_every_taskmanager_and_its_python_workers() -> None:
    cpu = {
        "flink-taskmanager-1": 10.0,
        "flink-taskmanager-1.children": 4.0,
        "flink-taskmanager-2": 6.0,
        "flink-jobmanager": 3.0,
        "elasticsearch": 20.0,
    }
    totals = with_taskmanager_totals(cpu)
    assert totals["taskmanagers"] == 16.0
    assert totals["taskmanagers.python"] == 4.0
    assert totals["elasticsearch"] == 20.0
    # A stack started before TaskManagers were numbered.
    assert with_taskmanager_totals({"flink-taskmanager": 5.0})["taskmanagers"] == 5.0
