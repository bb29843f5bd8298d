"""ActionPattern runs over bytes for ASCII text: it must give exactly the text program's results."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from common.rules.regex import ActionPattern, compile_pattern

PATTERNS = ["(?P<a>b+)", "x*", "(?P<a>a)|(?P<b>b)", r"\d+", "^a", "$", "(?P<a>.)é?"]
subject = st.text("ab1 xé\u2603", max_size=10)


@settings(max_examples=300, deadline=None)
@given(pattern=st.sampled_from(PATTERNS), text=subject, replacement=st.sampled_from(["R", "", "é", r"\1"]))
def test_same_results_as_the_text_program(pattern: str, text: str, replacement: str) -> None:
    fast, slow = ActionPattern(pattern), compile_pattern(pattern)
    assert fast.replace(text, replacement) == slow.sub(lambda _: replacement, text)
    numbers = list(range(slow.groups + 1))
    match = slow.search(text)
    expected = None if match is None else [match.group(n) for n in numbers]
    assert fast.groups(text, numbers) == expected
