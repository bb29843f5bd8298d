"""Error groups: a stable fingerprint per error record, and the per-fingerprint group bookkeeping.

``fingerprint.annotate(record)`` fills ``error.fingerprint`` (and ``error.grouping.template`` when
the message was the grouping input); ``groups`` keeps the per-fingerprint state the job's keyed
operator wraps. The algorithm is documented in docs/errors.md.
"""
