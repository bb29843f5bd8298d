"""One module per log format family. Each exposes ``parse(text, ctx) -> dict | None`` (or tail parsers
called after a shared timestamp prefix) returning a partial ECS record with ``event.dataset`` set."""
