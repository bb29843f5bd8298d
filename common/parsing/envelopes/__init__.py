"""Shippers' envelopes: JSON objects that a log shipper (Filebeat, Fluent Bit, Vector, Logstash, rsyslog)
wraps around a log line on its way to Kafka, and OTLP log batches (OpenTelemetry Collector's Kafka
exporter) that carry many lines in one message. ``registry.unwrap`` recognises the JSON envelopes;
``otlp`` decodes and fans out OTLP. See docs/parsing.md, "Shippers' envelopes"."""
