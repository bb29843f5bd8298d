"""error.fingerprint over real-shaped traces: variants of one error share it, different errors do not."""

from __future__ import annotations

import re
from typing import Any

import pytest
from traces import CASES, JAVA_ORDER, NODE, PLAIN, PYTHON_SMTP, Case

from common.errors import frames
from common.errors.fingerprint import annotate, grouping_input, is_error
from common.parsing import ParseOptions, parse_message

OPTIONS = ParseOptions(clock=lambda: 1_700_000_000.0)


def parsed(line: str) -> dict[str, Any]:
    return parse_message(line.encode(), OPTIONS)


def fingerprint(line: str) -> str:
    value = parsed(line)["error"]["fingerprint"]
    assert isinstance(value, str)
    return value


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_variants_of_one_error_share_a_fingerprint(case: Case) -> None:
    prints = {fingerprint(v) for v in case.variants}
    assert len(prints) == 1, prints
    assert re.fullmatch(r"[0-9a-f]{16}", prints.pop())


def test_different_errors_get_different_fingerprints() -> None:
    prints = [fingerprint(case.variants[0]) for case in CASES]
    assert len(set(prints)) == len(CASES)


def test_java_frames_drop_line_numbers_proxies_lambda_and_anonymous_class_numbers() -> None:
    parts, shape = grouping_input(parsed(JAVA_ORDER.variants[0]))
    assert shape is None  # a stack is grouped by its frames, not its message
    assert parts == [
        "v1",
        "type:java.lang.IllegalStateException",
        "cause:java.lang.NullPointerException",  # the root cause: the last `Caused by:`
        "frame:org.example.orders.OrderService.validate",
        "frame:org.example.orders.OrderService.process",  # lambda$process$0
        "frame:org.example.orders.OrderService.process",
        "frame:org.example.orders.OrderController.run",  # OrderController$1
        "frame:org.example.orders.Order.customer",
    ]  # java.base frames, the CGLIB proxy and $Proxy frames are gone


def test_runtime_frames_are_used_when_the_trace_has_no_application_frame() -> None:
    trace = (
        "java.lang.OutOfMemoryError: Java heap space\n"
        "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3512)\n"
        "\tat java.base/java.lang.AbstractStringBuilder.ensureCapacityInternal(AbstractStringBuilder.java:227)\n"
    )
    found = frames.extract(trace)
    assert found.app == [] and found.preferred() == [
        "java.util.Arrays.copyOf",
        "java.lang.AbstractStringBuilder.ensureCapacityInternal",
    ]


def test_python_frames_are_file_and_function_without_the_deploy_root_or_stdlib() -> None:
    parts, _ = grouping_input(parsed(PYTHON_SMTP.variants[0]))
    assert parts == [
        "v1",
        "type:ConnectionRefusedError",
        "frame:app/tasks.py:send_mail",
        "frame:app/tasks.py",
    ]


def test_node_frames_leave_out_anonymous_functions_node_modules_and_internals() -> None:
    parts, _ = grouping_input(parsed(NODE.variants[0]))
    assert parts == [
        "v1",
        "type:TypeError",
        "frame:users/format.js:formatUser",
        "frame:users/routes.js",
        "frame:src/server.js",
    ]


def test_dotnet_generated_names_fold_into_their_method() -> None:
    trace = (
        "System.InvalidOperationException: boom\n"
        "   at Shop.Program.<Main>b__0_0(String x) in /src/Program.cs:line 10\n"
        "   at Shop.Program+<>c.<Run>b__1_0() in /src/Program.cs:line 20\n"
        "   at Shop.Worker.<RunAsync>d__5.MoveNext() in /src/Worker.cs:line 30\n"
        "   at Shop.Worker+<PollAsync>d__12.MoveNext()\n"
        "   at lambda_method12(Closure, Object)\n"
        "   at System.Threading.Tasks.Task.Execute()\n"
    )
    assert frames.extract(trace).app == [
        "Shop.Program.Main",
        "Shop.Program.Run",
        "Shop.Worker.RunAsync",
        "Shop.Worker.PollAsync",
    ]


def test_go_frames_take_the_panicking_goroutine_without_closures_or_the_standard_library() -> None:
    found = frames.extract(
        "panic: boom\n\ngoroutine 9 [running]:\n"
        "main.worker.func1.2()\n\t/app/main.go:10 +0x1\n"
        "github.com/acme/jobs.(*Runner).Run.gowrap1(0xc0000a0000)\n\t/app/run.go:5 +0x2\n"
        "sync.(*Once).doSlow(0xc00001c0a0, 0x1)\n\t/usr/local/go/src/sync/once.go:74 +0xc2\n"
        "runtime.goexit()\n\t/usr/local/go/src/runtime/asm_amd64.s:1650 +0x1\n"
        "\ngoroutine 10 [chan receive]:\nmain.other()\n\t/app/main.go:99 +0x1\n"
    )
    assert found.app == ["main.worker", "github.com/acme/jobs.(*Runner).Run"]
    assert found.runtime == ["sync.(*Once).doSlow", "runtime.goexit"]


def test_python_generated_function_names_are_left_out() -> None:
    found = frames.extract(
        "Traceback (most recent call last):\n"
        '  File "/app/jobs/run.py", line 3, in <genexpr>\n'
        '  File "/app/jobs/run.py", line 9, in <lambda>\n'
        '  File "/opt/venv/lib/python3.12/site-packages/requests/api.py", line 59, in get\n'
        "ValueError: x\n"
    )
    assert found.app == ["jobs/run.py", "jobs/run.py"]
    assert found.runtime == ["api.py:get"] or found.runtime == ["requests/api.py:get"]


def test_a_message_template_is_kept_for_errors_without_a_stack() -> None:
    record = parsed(PLAIN.variants[0])
    assert record["error"]["grouping"]["template"] == (
        "payment <hex> for <email> failed: upstream <ip>:<port> returned <num> after <num> (request <uuid>)"
    )


def test_records_below_error_level_without_error_fields_get_no_fingerprint() -> None:
    record = parsed("2023-11-10 08:00:00,001 WARN [main] c.Foo: disk 91% full")
    assert "error" not in record and not is_error(record)


@pytest.mark.parametrize("level", ["ERROR", "SEVERE", "FATAL", "CRITICAL", "crit", "emerg", "alert"])
def test_every_error_level_spelling_is_an_error_record(level: str) -> None:
    record = parsed(f'{{"level":"{level}","msg":"cache miss storm for shard 12"}}')
    assert record["error"]["grouping"]["template"] == "cache miss storm for shard <num>"


def test_a_record_with_error_type_but_a_low_level_is_an_error_record() -> None:
    record = parsed('{"level":"info","msg":"retrying","error":{"type":"TimeoutError","message":"after 30s"}}')
    assert record["error"]["fingerprint"]


def test_a_fingerprint_already_on_the_record_is_kept() -> None:
    # An ECS-shaped JSON line keeps its fields as they are, its shipper's fingerprint included.
    record = parsed(
        '{"@timestamp":"2023-11-10T08:00:00Z","log":{"level":"error"},"message":"x 1",'
        '"error":{"message":"y","fingerprint":"checkout-flaky"},"ecs":{"version":"8.11"}}'
    )
    assert record["error"]["fingerprint"] == "checkout-flaky"


def test_annotate_never_raises_on_odd_records() -> None:
    odd: list[dict[str, Any]] = [
        {"log": {"level": "error"}, "message": None, "error": "not a dict"},
        {"log": {"level": "error"}, "error": {"stack_trace": "\tat (\n\tat )(\ngoroutine"}},
        {"log": "error", "error": {"type": 5, "stack_trace": ["not", "text"]}},
        {"error": {"type": "X", "grouping": "not a dict"}},
    ]
    for record in odd:
        annotate(record)
    assert odd[1]["error"]["fingerprint"] and odd[3]["error"]["fingerprint"]
    assert odd[0]["error"] == "not a dict"  # a scalar error is the source's: never replaced
