"""The adapter toolkit (``eventbus.adapter``): name checks, URL parameters, secret scrubbing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventbus.adapter import (
    ChannelNameError,
    ChannelNames,
    ConfigurationError,
    Limits,
    Param,
    Scrubber,
    check_channel,
    check_pattern,
    parse_hosts_url,
    parse_params,
    split_url,
)

LIMITS = Limits(channel_pattern=r"[a-z]+(\.[a-z]+)*", channel_rule="lowercase words")
READERS = {
    "on": Param.flag,
    "wait": Param.seconds,
    "count": Param.integer(minimum=1),
    "ratio": Param.number(0.0, 1.0),
    "label": Param.nonempty,
    "token": Param.integer(),
}


def test_channel_and_pattern_errors_name_the_adapter_and_the_rule() -> None:
    check_channel(LIMITS, "orders.placed", adapter="demo")
    check_pattern(LIMITS, "orders.*", adapter="demo")
    with pytest.raises(ChannelNameError, match="demo: lowercase words") as info:
        check_channel(LIMITS, "orders.*", adapter="demo")
    assert (info.value.channel, info.value.adapter) == ("orders.*", "demo")
    with pytest.raises(ChannelNameError, match="'>' may only be the last token"):
        check_pattern(LIMITS, "a.>.b", adapter="demo")


def test_channel_names_remember_valid_names_and_keep_refusing_bad_ones() -> None:
    names = ChannelNames(LIMITS, adapter="demo")
    for _ in range(2):
        names.channel("orders")
        with pytest.raises(ChannelNameError):
            names.channel("Orders")
    names.pattern("orders.>")
    with pytest.raises(ChannelNameError):
        names.pattern("orders.>.x")


def test_params_are_read_by_their_readers() -> None:
    values = parse_params(
        "on=yes&wait=1.5&count=3&ratio=0.25&label=x&token=7",
        READERS,
        what="demo URL",
        shown="demo://",
    )
    assert values == {"on": True, "wait": 1.5, "count": 3, "ratio": 0.25, "label": "x", "token": 7}
    assert parse_params("", READERS, what="demo URL", shown="demo://") == {}


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("bogus=1", "unknown demo URL parameter 'bogus' in demo://x (known: on, wait,"),
        ("on=1&on=0", "demo URL parameter 'on' is given twice"),
        ("on=maybe", "parameter 'on' in demo://x: expected true or false, got 'maybe'"),
        ("wait=-1", "expected a number of seconds >= 0, got '-1'"),
        ("wait=nan", "expected a number of seconds >= 0"),
        ("count=0", "expected an integer >= 1, got '0'"),
        ("count=1.5", "expected an integer >= 1"),
        ("ratio=2", "expected a number between 0 and 1, got '2'"),
        ("label=", "expected a value"),
        ("&&", "cannot read the query of the demo URL demo://x"),
    ],
)
def test_bad_params_are_named(query: str, words: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_params(query, READERS, what="demo URL", shown="demo://x")
    assert words in str(info.value)


def test_a_refused_secret_value_is_not_echoed() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_params("token=hunter2-secret", READERS, what="demo URL", shown="demo://x")
    assert "'token'" in str(info.value)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    "url", ["demo:/host", "demo:host", "other://host", "host:1", "//host", "demo"]
)
def test_split_url_refuses_anything_but_scheme_slash_slash(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"not a demo:// URL"):
        split_url(url, "demo", what="demo URL")
    parts, shown = split_url("DEMO://user:pw@host:1?x=1", "demo", what="demo URL")
    assert (parts.hostname, parts.port, parts.query) == ("host", 1, "x=1")
    assert "pw" not in shown


def test_scrubber_replaces_longest_secrets_first() -> None:
    scrub = Scrubber(["abc", "abcdef", ""])
    assert scrub("key abcdef and abc") == "key *** and ***"
    assert "abc" not in repr(scrub)


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [
        ("true", pytest.fail.Exception),
        ("1", pytest.fail.Exception),
        ("false", pytest.skip.Exception),
        (None, pytest.skip.Exception),
    ],
)
def test_a_missing_tool_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: type[BaseException]
) -> None:
    from eventbus.testing import unavailable

    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    raised: BaseException | None = None
    try:
        unavailable("no such tool")
    except BaseException as exc:  # Skipped and Failed derive from BaseException
        raised = exc
    assert type(raised) is outcome and "no such tool" in str(raised), repr(raised)


def test_the_broker_dedupe_id_is_stable_and_tells_sources_apart() -> None:
    from eventbus.adapter import broker_dedupe_id

    # Fixed values: a change here would make a re-sent publish after an upgrade a new message.
    assert broker_dedupe_id("/producer-a", "42") == "42@adaf6fb57632b055"
    assert broker_dedupe_id("/producer-a", "x" * 97) == "16b12c1d293e8cbfc96e485ac3f5995e"
    ids = {
        broker_dedupe_id(source, event_id)
        for source, event_id in [
            ("/producer-a", "42"),
            ("/producer-b", "42"),
            ("/producer-a", "43"),
            ("a", "bc" * 60),
            ("ab", "c" + "bc" * 59 + "b"),
        ]
    }
    assert len(ids) == 5
    longest = broker_dedupe_id("/s" * 500, "i" * 96)
    assert len(longest) <= 128 and len(broker_dedupe_id("/s", "i" * 500)) == 32


def test_a_publish_error_names_its_outcome() -> None:
    import pickle

    from eventbus.adapter import PublishError

    unknown = PublishError("publishing to 'x': no acknowledgement")
    assert unknown.outcome == "unknown" and "outcome unknown" in str(unknown)
    assert "may duplicate" in str(unknown)
    refused = PublishError("publishing to 'x': too large", outcome="not-stored")
    assert refused.outcome == "not-stored" and str(refused).endswith("[not stored]")
    again = pickle.loads(pickle.dumps(refused))
    assert (type(again), again.outcome, str(again)) == (PublishError, "not-stored", str(refused))
    with pytest.raises(ValueError, match="outcome"):
        PublishError("x", outcome="lost")  # type: ignore[arg-type]


_TABLE = {
    "tls": ("tls", "", Param.flag),
    "tls_ca": ("tls", "ca", Param.text),
    "n": ("a", "n", Param.integer()),
}
_HOST = st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True) | st.just("[::1]")


@given(st.lists(st.tuples(_HOST, st.none() | st.integers(1, 65535)), min_size=1, max_size=4))
def test_hosts_url_reads_every_host_with_its_port(hosts: list[tuple[str, int | None]]) -> None:
    text = ",".join(h if p is None else f"{h}:{p}" for h, p in hosts)
    parsed = parse_hosts_url(
        f"x://u:secret@{text}?n=3",
        "x",
        what="X URL",
        params=_TABLE,
        sections=("a", "tls"),
        default_port=7,
    )
    assert parsed.servers == tuple(f"{h}:{7 if p is None else p}" for h, p in hosts)
    assert parsed.userinfo == "u:secret" and parsed.sections["a"] == {"n": 3}
    assert not parsed.tls and "secret" not in parsed.shown


@pytest.mark.parametrize(
    ("query", "tls", "section"),
    [("tls=true", True, {}), ("tls_ca=/ca", True, {"ca": "/ca"}), ("tls=false", False, {})],
)
def test_hosts_url_tls_switch(query: str, tls: bool, section: dict[str, str]) -> None:
    parsed = parse_hosts_url(
        f"x://h?{query}", "x", what="X URL", params=_TABLE, sections=("a", "tls"), default_port=7
    )
    assert (parsed.tls, parsed.sections["tls"]) == (tls, section)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("y://h", "not a x:// URL"),
        ("x://h/path", "unexpected path or fragment"),
        ("x://", "names no node"),
        ("x://pass@[::1", r"unclosed '\[' in node #1"),
        ("x://user:pa55word", "bad node #1"),
        ("x://a,pa55word:0", "bad node #2"),
        ("x://[::1]x", "bad node #1"),
        ("x://user:pa55word:1", "bad node #1"),  # '@' forgotten, a port after the password
        ("x://h:1,user:pa55word:1", "bad node #2"),
    ],
)
def test_hosts_url_errors_name_the_host_by_position(url: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem) as caught:
        parse_hosts_url(
            url,
            "x",
            what="X URL",
            params=_TABLE,
            sections=("a", "tls"),
            default_port=7,
            entry="node",
        )
    assert "pa55word" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "allow_zero", "accepted"),
    [
        (1.5, False, True),
        (0, True, True),
        (0, False, False),
        (-1, True, False),
        (float("nan"), True, False),
        (float("inf"), False, False),
        (True, False, False),
    ],
)
def test_check_positive_names_the_setting(value: float, allow_zero: bool, accepted: bool) -> None:
    from eventbus.adapter import check_positive

    if accepted:
        check_positive("Demo.timeout", value, allow_zero=allow_zero)
        return
    wanted = ">= 0" if allow_zero else "> 0"
    with pytest.raises(ConfigurationError, match=rf"Demo.timeout must be a number {wanted}, got"):
        check_positive("Demo.timeout", value, allow_zero=allow_zero)


def test_fit_name_keeps_the_names_brokers_already_hold() -> None:
    from eventbus.adapter import fit_name

    # Fixed values: a change here would make an upgraded adapter miss its existing queues.
    assert fit_name("orders.placed~" + "g" * 100, 64) == "orders.placed~" + "g" * 37 + (
        "-25205a002eee"
    )
    assert fit_name("orders.placed~" + "g" * 99 + "h", 64).endswith("-4f9bf05bf398")


@given(st.text(min_size=1, max_size=300), st.integers(20, 256))
def test_fit_name_fits_the_limit_and_keeps_short_names(name: str, limit: int) -> None:
    from eventbus.adapter import fit_name

    fitted = fit_name(name, limit)
    assert len(fitted) <= limit
    if len(name) <= limit:
        assert fitted == name
    else:
        assert fitted.startswith(name[: limit - 13]) and fitted != fit_name(name + "x", limit)


@pytest.mark.parametrize(
    ("text", "limit", "line"),
    [
        ("  \n  Access denied\nrequest id 42\n", 300, "Access denied"),
        (" \n\t ", 300, ""),
        ("", 300, ""),
        ("x" * 400, 300, "x" * 300),
        ("abcdef", 3, "abc"),
    ],
)
def test_first_line_is_the_first_line_bounded(text: str, limit: int, line: str) -> None:
    from eventbus.adapter import first_line

    assert first_line(text, limit) == line
    if limit == 300:
        assert first_line(text) == line
