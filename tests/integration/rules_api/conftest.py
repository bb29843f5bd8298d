"""Fixtures for the rules API integration tests (defined in api_stack, a uniquely named module)."""

from api_stack import isolation, server, servers, unique

__all__ = ["isolation", "server", "servers", "unique"]
