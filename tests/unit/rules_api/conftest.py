"""Fixtures for the rules API unit tests (defined in api_harness, a uniquely named module)."""

from api_harness import harness

__all__ = ["harness"]
