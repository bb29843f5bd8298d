"""Controlling the job from outside: its configuration, ``logflow job``/``produce``/``stats`` commands,
submission with the ``flink`` CLI, and Flink's REST API."""
