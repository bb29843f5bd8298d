"""Property: putting other values of a placeholder's class into a message leaves its template unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from common.errors.template import template

_WORDS = ("failed", "user", "order", "connect", "to", "timeout", "request", "from", "retry", "upstream")
_SEPARATORS = (" ", ": ", ", ", " (", ") ", "=", " [", "] ")

_stamps = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))
VALUES: dict[str, st.SearchStrategy[str]] = {
    "num": st.one_of(
        st.integers(-(10**12), 10**12).map(str),
        st.floats(0, 1e6, allow_nan=False).map(lambda f: f"{f:.3f}"),
        st.tuples(st.integers(0, 99999), st.sampled_from(["ms", "s", "KB", "GB"])).map(
            lambda t: f"{t[0]}{t[1]}"
        ),
    ),
    "uuid": st.uuids().map(str),
    "ipv4": st.ip_addresses(v=4).map(str),
    "ipv4port": st.tuples(st.ip_addresses(v=4), st.integers(0, 65535)).map(lambda t: f"{t[0]}:{t[1]}"),
    "ipv6": st.ip_addresses(v=6).map(str),
    "ipv6port": st.tuples(st.ip_addresses(v=6), st.integers(0, 65535)).map(lambda t: f"[{t[0]}]:{t[1]}"),
    "hex": st.one_of(
        st.integers(0, 2**64).map(hex),
        st.binary(min_size=4, max_size=20).map(bytes.hex).filter(lambda h: any(c.isalpha() for c in h)),
    ),
    "email": st.from_regex(r"[a-z][a-z0-9._+-]{0,10}@[a-z]{1,8}(\.[a-z]{2,5}){1,2}", fullmatch=True),
    "quoted": st.text(st.characters(codec="utf-8", exclude_characters='"\n\r'), max_size=20).map(
        lambda t: f'"{t}"'
    ),
    "timestamp": st.one_of(
        _stamps.map(lambda d: d.isoformat().replace("+00:00", "Z")),
        _stamps.map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]),
        _stamps.map(lambda d: d.strftime("%d/%b/%Y:%H:%M:%S +0000")),
        _stamps.map(lambda d: d.strftime("%b %d %H:%M:%S")),
    ),
    "path": st.tuples(st.integers(0, 10**9), st.uuids()).map(
        lambda t: f"/srv/users/{t[0]}/files/{t[1]}.json"
    ),
}

skeletons = st.lists(
    st.tuples(st.sampled_from(_WORDS), st.sampled_from(_SEPARATORS), st.sampled_from(sorted(VALUES))),
    min_size=1,
    max_size=6,
)


def _fill(draw: st.DrawFn, skeleton: list[tuple[str, str, str]]) -> str:
    return "".join(f"{word}{sep}{draw(VALUES[kind])} " for word, sep, kind in skeleton)


@st.composite
def two_fillings(draw: st.DrawFn) -> tuple[str, str]:
    skeleton = draw(skeletons)
    return _fill(draw, skeleton), _fill(draw, skeleton)


@given(two_fillings())
def test_placeholder_values_leave_the_template_stable(pair: tuple[str, str]) -> None:
    first, second = pair
    assert template(first) == template(second), (first, second)


@given(st.sampled_from(sorted(VALUES)).flatmap(VALUES.__getitem__))
def test_no_digit_of_a_placeholder_value_is_left_in_the_template(value: str) -> None:
    shape = template(f"failed {value} now")
    assert "<" in shape and not any(c.isdigit() for c in shape), (value, shape)
