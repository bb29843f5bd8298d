"""The logflow PyFlink job, its submission tooling and its CLI commands."""
