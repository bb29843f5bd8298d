"""Where data enters the job: ``kafka`` (log records in batches, and the rules topic's changelog)."""
