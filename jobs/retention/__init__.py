"""Index retention: delete logflow's daily indices once every day they hold is past the retention.

Two paths with one meaning (docs/retention.md): ``logflow indices prune`` (any Elasticsearch,
run on a schedule) and an ILM policy attached through the index template (clusters that have ILM).
"""
