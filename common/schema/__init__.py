"""The data model, in one place.

- ``ecs``: the ECS-shaped record every parser produces and every rule reads and writes, with the
  dotted-path helpers used to address its fields.
- ``rule``: the rule format (JSON Schema and typed model) shared by the rules engine, the rules API
  and the Flink job.
"""
