from __future__ import annotations

import pytest

from rules_api.security import Role, TokenConfigError, TokenRegistry, bearer_token, hash_token


def entry(name: str, role: str, token: str) -> str:
    return f"{name}:{role}:{hash_token(token)}"


def test_hash_token_is_hex_sha256() -> None:
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_authenticate_finds_the_matching_principal_and_rejects_others() -> None:
    registry = TokenRegistry([entry("ops", "admin", "t1"), entry("ci", "viewer", "t2")])
    admin = registry.authenticate("t1")
    viewer = registry.authenticate("t2")
    assert admin is not None and admin.name == "ops" and admin.role is Role.admin
    assert viewer is not None and viewer.role is Role.viewer
    assert registry.authenticate("t3") is None
    assert registry.authenticate("") is None


def test_roles_are_ordered() -> None:
    assert Role.viewer < Role.editor < Role.admin


def test_uppercase_digest_is_accepted() -> None:
    registry = TokenRegistry([f"a:editor:{hash_token('x').upper()}"])
    assert registry.authenticate("x") is not None


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([], "no API tokens configured"),
        (["just-a-token"], "not name:role:sha256hex"),
        (["a:root:" + "0" * 64], "role 'root'"),
        (["a:admin:abc"], "64-hex-digit"),
        ([":admin:" + "0" * 64], "empty name"),
    ],
)
def test_bad_configuration_is_refused_with_a_reason(entries: list[str], message: str) -> None:
    with pytest.raises(TokenConfigError, match=message):
        TokenRegistry(entries)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
