"""The adapter's header handling sends and reads exactly what nats-py's own code does."""

from __future__ import annotations

import asyncio
from typing import Any

import nats.errors
from eventbus_nats._client import AdapterClient, encode_header_block, parse_header_lines
from hypothesis import given, settings
from hypothesis import strategies as st
from nats.aio.client import Client

_nats_py = Client._parse_header_lines


def _stock(block: bytes) -> dict[str, Any]:
    """nats-py's reading of ``block``, except that nothing hides a broken message from the
    bindings: a value that is not UTF-8 stays bytes, a repeated name keeps every value."""
    out: dict[str, Any] = {}
    for line in block.split(b"\r\n"):
        read = _nats_py(line + b"\r\n")
        if not read:
            continue
        ((name, value),) = read.items()
        raw = line.partition(b":")[2].strip()
        if "\ufffd" in value and value.encode() != raw:
            value = raw
        if name in out:
            seen = out[name]
            out[name] = [*seen, value] if isinstance(seen, list) else [seen, value]
        else:
            out[name] = value
    return out


def test_the_adapter_client_uses_the_fast_paths() -> None:
    assert "_parse_header_lines" in AdapterClient.__dict__
    for hook in ("_parse_header_lines", "_send_publish", "_send_command", "_flush_pending"):
        assert hasattr(Client, hook), f"nats-py changed ({hook}): revisit _client.py"
    ce = {"ce-specversion": "1.0", "ce-id": "a-1", "ce-time": "2024-05-01T12:00:00Z"}
    assert encode_header_block(ce, set()) is not None


async def _sent(client: Client, headers: dict[str, str]) -> bytes | str:
    try:
        await client._send_publish("subj", "reply", b"payload", 7, headers)
    except nats.errors.BadHeaderError as exc:
        return f"error {exc}"
    except AttributeError:
        return "error attribute"
    return b"".join(client._pending)


def _both(headers: dict[str, str]) -> tuple[bytes | str, bytes | str]:
    async def go() -> tuple[bytes | str, bytes | str]:
        return await _sent(Client(), headers), await _sent(AdapterClient(), headers)

    return asyncio.run(go())


def test_known_header_dicts_are_sent_byte_for_byte() -> None:
    cases = [
        {"ce-id": "1", "ce-type": "a.b", "Content-Type": "application/json"},
        {"ce-id": ""},
        {"k": " padded ", "j": "x\r\ny", "i": "\ttab"},
        {"bad name": "x"},
        {" k ": "v"},
        {"k": "caf\u00e9"},
        {"k": "a:  b"},
        {"k": "end\x1f"},
    ]
    for headers in cases:
        stock, ours = _both(headers)
        assert stock == ours, headers


_names = st.one_of(st.sampled_from(["ce-id", "ce-type", "Nats-Msg-Id", "k"]), st.text(max_size=6))
_values = st.one_of(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=10), st.text())


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_names, _values, min_size=1, max_size=5))
def test_sent_bytes_match_nats_py(headers: dict[str, str]) -> None:
    stock, ours = _both(headers)
    assert stock == ours


def test_known_blocks() -> None:
    blocks = [
        b"ce-id: 1\r\nce-type: a.b\r\n\r\n",
        b"Name:Value\r\nName2:\tv2 \r\n",
        b"bad name: x\r\n: empty\r\nno-colon\r\nk: a:b:c\r\n",
        b"caf\xc3\xa9: x\r\nv: caf\xc3\xa9\r\nw: \xff\xfe\r\n",
        b"ce-x: %20quoted%22\r\n k : spaced \r\n",
        b"ce-id: 1\r\nce-id: 2\r\nce-id: 3\r\n",
        b"ce-id: \xff\r\nce-id: ok\r\n",
    ]
    known: set[str] = set()
    for block in blocks * 2:  # the second round reads with every valid name known
        assert parse_header_lines(block, known) == _stock(block), block
    client = AdapterClient()  # remembers short blocks: read each one three times
    for block in blocks * 3:
        read = client._parse_header_lines(block)
        assert read == _stock(block), block
        for value in read.values():  # what a reader changes is not remembered
            if isinstance(value, list):
                value.append("changed")
        read["changed"] = "yes"
    assert parse_header_lines(blocks[-2], set()) == {"ce-id": ["1", "2", "3"]}
    assert parse_header_lines(blocks[-1], set()) == {"ce-id": [b"\xff", "ok"]}
    assert parse_header_lines(blocks[3], set())["w"] == b"\xff\xfe"


_line = st.one_of(
    st.binary(max_size=30),
    st.builds(
        lambda k, v: k + b":" + v,
        st.binary(max_size=12),
        st.binary(max_size=20),
    ),
    st.builds(
        lambda k, v: k.encode() + b": " + v.encode(),
        st.text(max_size=10),
        st.text(max_size=20),
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_line, max_size=8))
def test_same_result_as_nats_py(lines: list[bytes]) -> None:
    block = b"\r\n".join(lines) + b"\r\n"
    known: set[str] = set()
    assert parse_header_lines(block, known) == _stock(block)
    assert parse_header_lines(block, known) == _stock(block)  # with names cached
