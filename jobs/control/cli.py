"""`logflow job ...`, `logflow produce` and `logflow stats`."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from common.settings import KafkaSettings, RedisSettings, TopicSettings, flink_rest_url


def configure_job(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="job_command", metavar="COMMAND")
    submit = sub.add_parser(
        "submit", help="submit the pipeline to the running cluster and wait until RUNNING"
    )
    submit.add_argument(
        "--from-savepoint",
        help="restore from this savepoint (or checkpoint) path instead of the latest retained state",
    )
    submit.add_argument(
        "--fresh",
        action="store_true",
        help="do not resume from the latest retained checkpoint; start from the consumer group's offsets",
    )
    submit.add_argument(
        "--timeout", type=float, default=240.0, help="seconds to wait for RUNNING (default 240)"
    )
    submit.set_defaults(handler=_job_submit)
    rescale = sub.add_parser(
        "rescale",
        help="stop the running job with a savepoint and resubmit it from there at a new parallelism",
    )
    rescale.add_argument("--parallelism", "-p", type=int, required=True, help="the new parallelism")
    rescale.add_argument("--dir", help="savepoint directory (default: the cluster's savepoint dir)")
    rescale.add_argument("--timeout", type=float, default=300.0, help="seconds for each step (default 300)")
    rescale.add_argument("--json", action="store_true", help="print the report as JSON")
    rescale.set_defaults(handler=_job_rescale)
    status = sub.add_parser("status", help="show the pipeline job's state and checkpoints")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_job_status)
    cancel = sub.add_parser("cancel", help="cancel the running pipeline job")
    cancel.set_defaults(handler=_job_cancel)
    savepoint = sub.add_parser("savepoint", help="take a savepoint of the running pipeline job")
    savepoint.add_argument("--dir", help="target directory (default: the cluster's state.savepoints.dir)")
    savepoint.add_argument("--cancel", action="store_true", help="cancel the job once the savepoint is taken")
    savepoint.set_defaults(handler=_job_savepoint)

    def usage(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    parser.set_defaults(handler=usage)


def _job_name() -> str:
    from jobs.control.config import JobConfig

    return JobConfig.from_env().name


def _rest():  # type: ignore[no-untyped-def]
    from jobs.control.flink_rest import FlinkRest

    return FlinkRest(flink_rest_url())


def _fail(message: str) -> int:
    print(f"logflow: {message}", file=sys.stderr)
    return 1


def _job_submit(args: argparse.Namespace) -> int:
    import os

    from jobs.control.config import JobConfig
    from jobs.control.flink_rest import FlinkError
    from jobs.control.lifecycle import resume_point, submit_and_wait
    from jobs.control.resume import ResumeError
    from jobs.control.submit import SubmitError

    config = JobConfig.from_env()
    name = config.name
    rest = _rest()
    hint = ""
    try:
        active = rest.active_job(name)
        if active is not None:
            print(f"{name} is already {active.state} as job {active.job_id}; not submitting again")
            return 0
        restore_from: str | None = args.from_savepoint
        parallelism: int | None = None
        if restore_from is None and not args.fresh:
            point = resume_point(config)
            if point is not None:
                restore_from = str(point.path)
                # As it ran (after `logflow job rescale`), unless LOGFLOW_PARALLELISM says otherwise.
                if not os.environ.get("LOGFLOW_PARALLELISM"):
                    parallelism = point.parallelism
                hint = "; to start without that state: logflow job submit --fresh"
                print(
                    f"resuming {name} from {point.kind} of job {point.job_id} "
                    f"at parallelism {parallelism or config.parallelism}: {point.path}"
                )
            else:
                print(f"no retained state of an earlier {name} job: starting from the group's offsets")
        started = time.monotonic()
        job = submit_and_wait(rest, config, restore_from, args.timeout, parallelism)
    except (FlinkError, SubmitError, ResumeError) as exc:
        return _fail(f"{exc}{hint}")
    finally:
        rest.close()
    ui = f"{flink_rest_url()}/#/job/running/{job.job_id}/overview"
    print(f"{name} RUNNING as job {job.job_id} ({time.monotonic() - started:.1f}s); UI: {ui}")
    return 0


def _job_rescale(args: argparse.Namespace) -> int:
    from jobs.control.config import JobConfig
    from jobs.control.flink_rest import FlinkError
    from jobs.control.lifecycle import RescaleError, rescale
    from jobs.control.resume import ResumeError
    from jobs.control.submit import SubmitError

    rest = _rest()
    try:
        report = rescale(rest, JobConfig.from_env(), args.parallelism, args.dir, args.timeout)
    except (FlinkError, SubmitError, ResumeError, RescaleError) as exc:
        return _fail(str(exc))
    finally:
        rest.close()
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return 0
    print(
        f"rescaled {report.name} from parallelism {report.from_parallelism} to {report.to_parallelism}\n"
        f"  stopped job {report.old_job_id} with savepoint {report.savepoint} ({report.stop_s:.1f}s)\n"
        f"  resubmitted from it as job {report.new_job_id}, every task RUNNING\n"
        f"  unavailable {report.unavailable_s:.1f}s (stop request until the new job ran)"
    )
    return 0


def _job_status(args: argparse.Namespace) -> int:
    from jobs.control.flink_rest import FlinkError

    name = _job_name()
    rest = _rest()
    try:
        jobs = [j for j in rest.jobs() if j.name == name]
        report = []
        for job in jobs:
            entry = {
                "job_id": job.job_id,
                "name": job.name,
                "state": job.state,
                "duration_ms": job.duration_ms,
            }
            if job.state == "RUNNING":
                entry["checkpoints"] = rest.checkpoint_summary(job.job_id)
            report.append(entry)
    except FlinkError as exc:
        return _fail(str(exc))
    finally:
        rest.close()
    if args.json:
        print(json.dumps({"jobs": report}, indent=2))
    elif not report:
        print(f"{name}: not submitted (logflow job submit)")
    else:
        for entry in report:
            uptime = entry["duration_ms"] / 1000
            line = f"{entry['name']}  {entry['state']:<10} {entry['job_id']}  up {uptime:.0f}s"
            if "checkpoints" in entry:
                cp = entry["checkpoints"]
                line += (
                    f"  checkpoints: {cp['completed']} done, {cp['failed']} failed,"
                    f" last {cp['latest_duration_ms']} ms"
                )
            print(line)
    return 0 if any(e["state"] == "RUNNING" for e in report) else 3


def _job_cancel(_args: argparse.Namespace) -> int:
    from jobs.control.flink_rest import FlinkError

    name = _job_name()
    rest = _rest()
    try:
        active = rest.active_job(name)
        if active is None:
            print(f"{name} is not running")
            return 0
        rest.cancel(active.job_id)
        state = rest.wait_terminal(active.job_id, 60)
    except FlinkError as exc:
        return _fail(str(exc))
    finally:
        rest.close()
    print(f"{name} ({active.job_id}) {state}")
    return 0


def _job_savepoint(args: argparse.Namespace) -> int:
    from jobs.control.flink_rest import FlinkError

    name = _job_name()
    rest = _rest()
    try:
        active = rest.active_job(name)
        if active is None:
            return _fail(f"{name} is not running; nothing to savepoint")
        location = rest.savepoint(active.job_id, args.dir, args.cancel, timeout_s=300)
    except FlinkError as exc:
        return _fail(str(exc))
    finally:
        rest.close()
    print(location)
    return 0


# ---- produce -------------------------------------------------------------------------------


def configure_produce(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a file of log lines, or - for stdin")
    parser.add_argument(
        "--topic", default=None, help="target topic (default: the first of LOGFLOW_LOG_TOPICS)"
    )
    parser.set_defaults(handler=_produce)


def iter_lines(stream: BinaryIO, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Non-empty lines split on b'\\n' only, bytes kept exactly (invalid UTF-8 included)."""
    pending = b""
    while chunk := stream.read(chunk_size):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from (line for line in lines if line.strip())
    if pending.strip():
        yield pending


def _produce(args: argparse.Namespace) -> int:
    from confluent_kafka import KafkaException, Producer

    topic = args.topic or TopicSettings.from_env().logs[0]
    producer = Producer(
        {
            **KafkaSettings.from_env().client_config(),
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 20,
            "message.max.bytes": 16 * 1024 * 1024,
        }
    )
    failures: list[str] = []

    def delivered(err: object, _msg: object) -> None:
        if err is not None:
            failures.append(str(err))

    sent = 0
    stream: BinaryIO = sys.stdin.buffer if args.file == "-" else Path(args.file).open("rb")  # noqa: SIM115
    try:
        for line in iter_lines(stream):
            while True:
                try:
                    producer.produce(topic, value=line, on_delivery=delivered)
                    break
                except BufferError:
                    producer.poll(0.1)
                except KafkaException as exc:
                    return _fail(f"cannot produce to {topic}: {exc}")
            sent += 1
            producer.poll(0)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    remaining = producer.flush(60)
    if remaining or failures:
        return _fail(
            f"{len(failures) + remaining} of {sent} messages were not delivered to {topic}: {failures[:3]}"
        )
    print(f"produced {sent} messages to {topic}")
    return 0


# ---- stats ---------------------------------------------------------------------------------

_DURATION = re.compile(r"^(\d+)([smhd])$")


def parse_duration(text: str) -> int:
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"expected a duration like 30s, 15m, 2h or 1d, got {text!r}")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def configure_stats(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", type=parse_duration, default=parse_duration("15m"), help="how far back (default 15m)"
    )
    parser.add_argument("--json", action="store_true", help="print the windows as JSON")
    parser.set_defaults(handler=_stats)


def _stats(args: argparse.Namespace) -> int:
    from redis.exceptions import RedisError

    from common.schema.stats import StatsKeys
    from jobs.control.config import JobConfig
    from jobs.sinks.redis_stats import connect, read_windows

    config = JobConfig.from_env()
    keys = StatsKeys(config.stats_prefix, config.window_seconds)
    client = connect(RedisSettings.from_env())
    try:
        windows = read_windows(client, keys, int(time.time()) - args.since - config.window_seconds)
    except RedisError as exc:
        return _fail(f"cannot read statistics from Redis ({exc}); is the stack up? (logflow stack up)")
    finally:
        client.close()
    if args.json:
        print(json.dumps({"windows": [w.to_json() for w in windows]}, indent=2))
        return 0
    if not windows:
        # The usual surprise right after `make demo`: a window is written only once it has closed.
        close_s = config.window_seconds + config.out_of_orderness_seconds + config.idle_close_seconds
        print(
            "no windows in that range; a window is written once it closes, "
            f"up to {close_s} s after its start when the stream goes quiet"
        )
        return 0
    header = ("window start (UTC)", "total", "indexed", "dropped", "dlq", "late")
    print("{:<22}{:>8}{:>9}{:>9}{:>6}{:>6}  top datasets".format(*header))
    for w in windows:
        top = ", ".join(f"{k}={v}" for k, v in w.by_dataset.most_common(3))
        row = (w.to_json()["start"], w.total, w.indexed, w.dropped, w.dead_lettered, w.late)
        print("{:<22}{:>8}{:>9}{:>9}{:>6}{:>6}  {}".format(*row, top))
    return 0
