"""One module per log format family, each declaring its ``Format`` (``common.parsing.format``): a
whole-line or after-a-timestamp parser returning a partial ECS record with ``event.dataset`` set.
Which are tried, and in what order, is ``common.parsing.registry``."""
