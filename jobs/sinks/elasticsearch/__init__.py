"""The Elasticsearch sink, one module per part (after Vector's ``src/sinks/elasticsearch``).

- ``config``: its settings, from the job's.
- ``template``: the index template (the ECS mapping of ``common.schema.ecs``), installed at job start.
- ``request_builder``: index names, bulk action lines, alerts as write requests.
- ``service``: one bulk request over the Python client; transient failures raised as such.
- ``retry``: how a response item is judged (indexed, rejected, retry).
- ``sink``: ``BulkWriter`` (a batch in, retried until each document has an outcome, rejects to the
  dead-letter sink) and ``ElasticsearchSink``, what an operator opens.
"""
