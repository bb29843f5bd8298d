"""One module per log format family. Each declares ``FORMAT`` (``common/parsing/format.py``): its
parsers, private, each returning a partial ECS record with ``event.dataset`` set, and where detection
tries them; ``registry.py`` lists the modules and ``generate.py`` writes detection's dispatch."""
