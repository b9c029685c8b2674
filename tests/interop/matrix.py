"""The interop rows, their results and ``docs/interop.md`` rendered from them.

Each :class:`Row` is one language x SDK module x broker x content mode x direction (and the
eventbus configuration it needs). The tests record what every case did in :data:`RESULTS`; the
last test of the suite (test_zz_matrix.py) renders the page from them and fails when the committed
page differs (``EVENTBUS_WRITE_INTEROP=1`` writes it instead).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cases import CASES, KAFKA_CASES

GO = "sdk-go v2.16.2"
GO_AMQP = "sdk-go protocol/amqp/v2 v2.15.2"
JS = "cloudevents 10.0.0 (npm)"
JAVA = "io.cloudevents 4.0.1"
JAVA_AMQP = "io.cloudevents amqp-proton 2.3.0"
PYTHON = "cloudevents 2.2 (PyPI)"
GO_KAFKA = "sdk-go v2.16.2, IBM/sarama v1.61.1"
JAVA_KAFKA = "io.cloudevents 4.0.1, kafka-clients 4.1.1"
JS_KAFKA = "cloudevents 10.0.0, kafkajs 2.2.4 (npm)"


@dataclass(frozen=True)
class Row:
    language: str
    sdk: str
    module: str
    broker: str
    mode: str
    direction: str  # "out": eventbus -> SDK; "in": SDK -> eventbus
    config: str = "default"

    @property
    def key(self) -> str:
        parts = (self.language, self.module, self.broker, self.mode, self.direction, self.config)
        return "-".join(p.split(" ")[0].replace("/", "_") for p in parts).lower()


def _both(language: str, sdk: str, module: str, broker: str, configs: dict[str, str]) -> list[Row]:
    return [
        Row(
            language,
            sdk,
            module,
            broker,
            mode,
            direction,
            configs.get(f"{mode}-{direction}", "default"),
        )
        for mode in ("binary", "structured")
        for direction in ("out", "in")
    ]


NATS = "NATS core (nats-server)"
JETSTREAM = "NATS JetStream (nats-server)"
PUBSUB = "Pub/Sub (pstest)"
SERVICEBUS = "Service Bus (test broker)"
HEADERS = "ce- headers (NATS/memory binding, no broker)"
KAFKA = "Kafka 4.1.1 (KRaft)"

ROWS: tuple[Row, ...] = (
    # sdk-go's core NATS module reads and writes structured mode only.
    Row("Go", GO, "protocol/nats/v2", NATS, "structured", "out"),
    Row("Go", GO, "protocol/nats/v2", NATS, "structured", "in"),
    *_both(
        "Go", GO, "protocol/nats_jetstream/v2", JETSTREAM, {"binary-out": "content_mode=binary"}
    ),
    *_both("Go", GO, "protocol/pubsub/v2", PUBSUB, {"structured-out": "content_mode=structured"}),
    *_both(
        "Go", GO_AMQP, "protocol/amqp/v2", SERVICEBUS, {"structured-out": "content_mode=structured"}
    ),
    *_both("JavaScript", JS, "HTTP", HEADERS, {}),
    *_both("Java", JAVA, "cloudevents-http-basic", HEADERS, {}),
    *_both(
        "Java",
        JAVA_AMQP,
        "cloudevents-amqp-proton",
        SERVICEBUS,
        {"structured-out": "content_mode=structured"},
    ),
    # The Python SDK has no NATS binding; its HTTP binding percent-encodes every ce- header value
    # (the HTTP binding requires it), which sdk-go's NATS modules do not: structured mode only.
    Row("Python", PYTHON, "bindings.http", HEADERS, "structured", "out"),
    Row("Python", PYTHON, "bindings.http", HEADERS, "structured", "in"),
    *_both(
        "Python", PYTHON, "bindings.amqp", SERVICEBUS, {"structured-out": "content_mode=structured"}
    ),
    Row("Python", PYTHON, "bindings.amqp", SERVICEBUS, "binary", "out", "amqp_prefix=cloudEvents_"),
)

# Kafka: every SDK's own Kafka binding with its language's Kafka client, both modes both ways.
ROWS += (
    *_both(
        "Go",
        GO_KAFKA,
        "protocol/kafka_sarama/v2",
        KAFKA,
        {"structured-out": "content_mode=structured"},
    ),
    *_both(
        "Java",
        JAVA_KAFKA,
        "cloudevents-kafka",
        KAFKA,
        {"structured-out": "content_mode=structured"},
    ),
    *_both("JavaScript", JS_KAFKA, "Kafka", KAFKA, {"structured-out": "content_mode=structured"}),
)

#: (row predicate, case, reason): cases an SDK cannot carry. The suite checks that each still
#: fails (a known limitation that starts passing fails the row until it is dropped here).
_LIMITS: tuple[tuple[Callable[[Row], bool], str, str], ...] = (
    (
        lambda r: r.language == "Go" and r.mode == "structured",
        "json-array",
        "sdk-go's JSON event format treats only application/json (not a +json media type) as "
        "JSON data: it reads such data only as a JSON string and writes it as one",
    ),
    (
        lambda r: (
            r.module == "protocol/nats_jetstream/v2" and r.mode == "binary" and r.direction == "in"
        ),
        "uris",
        "sdk-go's JetStream binary writer formats extension values with fmt.Sprint, so a URI "
        "extension arrives as Go's struct dump instead of the URI",
    ),
)

_LIMITS += (
    (
        lambda r: (
            r.module in ("protocol/amqp/v2", "bindings.amqp")
            and r.mode == "binary"
            and r.direction == "in"
        ),
        "times",
        "the SDK writes time as a native AMQP timestamp, which holds milliseconds: the "
        "microseconds are lost (eventbus writes timestamps as RFC 3339 strings)",
    ),
)

_LIMITS += (
    (
        lambda r: r.language == "Java" and r.mode == "structured" and r.direction == "out",
        "json-array",
        "the Java SDK's JSON format refuses JSON data of a +json media type (\"only a string is "
        'accepted as data")',
    ),
    (
        lambda r: (
            r.module == "cloudevents-amqp-proton" and r.mode == "binary" and r.direction == "in"
        ),
        "*extensions",
        "cloudevents-amqp-proton 2.3.0 writes extensions as application properties without the "
        "cloudEvents: prefix, so no reader takes them for CloudEvents attributes",
    ),
    (
        lambda r: r.module == "bindings.amqp" and r.mode == "binary" and r.direction == "in",
        "json-array",
        "the Python SDK's AMQP binding writes data of a +json media type with str(), not JSON",
    ),
    (
        lambda r: r.language == "JavaScript" and r.broker != KAFKA,
        "times",
        "the JavaScript SDK keeps time as a Date: milliseconds, converted to UTC",
    ),
    (
        lambda r: (
            r.language == "JavaScript"
            and r.broker != KAFKA
            and r.mode == "binary"
            and r.direction == "out"
        ),
        "json-array",
        "the JavaScript SDK's HTTP binding parses only application/json bodies as JSON",
    ),
    (
        lambda r: (
            r.language == "JavaScript"
            and r.broker != KAFKA
            and r.mode == "binary"
            and r.direction == "in"
        ),
        "no-data",
        "the JavaScript SDK's HTTP binding sets Content-Type: application/json on an event "
        "without data (read as its datacontenttype)",
    ),
)

_LIMITS += (
    (
        lambda r: (
            r.language == "JavaScript"
            and r.broker == KAFKA
            and not (r.mode == "binary" and r.direction == "in")
        ),
        "times",
        "the JavaScript SDK's Kafka binding reads time through a Date (new Date(time)."
        "toISOString()) and its structured writer writes the Date: milliseconds, converted to UTC "
        "(its binary writer copies the time string as it is)",
    ),
    (
        lambda r: (
            r.language == "JavaScript"
            and r.broker == KAFKA
            and r.mode == "binary"
            and r.direction == "out"
        ),
        "no-data",
        "the JavaScript SDK's Kafka binding refuses a record without value (\"Value is null or "
        'undefined"), which is how the Kafka binding writes an event without data in binary mode',
    ),
)

_WITH_EXTENSIONS = tuple(case.name for case in CASES if case.event.extensions)

KNOWN: dict[tuple[str, str], str] = {
    (row.key, name): why
    for row in ROWS
    for test, case, why in _LIMITS
    if test(row)
    for name in (_WITH_EXTENSIONS if case == "*extensions" else (case,))
}

#: row key -> {case name: "" (passed) or what differed}
RESULTS: dict[str, dict[str, str]] = {}


@dataclass(frozen=True)
class RpcRow:
    """A request-reply row: one side is eventbus, the other an SDK reading and setting the
    documented attributes (test_request_reply.py)."""

    language: str
    sdk: str
    module: str
    broker: str
    requester: str
    responder: str

    @property
    def key(self) -> str:
        parts = ("rpc", self.language, self.module, self.requester, self.responder)
        return "-".join(p.split(" ")[0].replace("/", "_") for p in parts).lower()


RPC_ROWS: tuple[RpcRow, ...] = (
    RpcRow("Go", GO, "protocol/nats/v2", NATS, "eventbus", "Go"),
    RpcRow("Go", GO, "protocol/nats/v2", NATS, "Go", "eventbus"),
)

#: rpc row key -> "" (passed) or what went wrong
RPC_RESULTS: dict[str, str] = {}


def _cell(row: Row) -> str:
    results = RESULTS.get(row.key)
    if results is None:
        return "not run"
    failed = [name for name, problem in results.items() if problem]
    passed = len(results) - len(failed)
    if not failed:
        return f"pass ({passed}/{len(results)})"
    return f"pass ({passed}/{len(results)}); SDK limits: {', '.join(failed)}"


_DIRECTION = {"out": "eventbus → SDK", "in": "SDK → eventbus"}


def render() -> str:
    lines = [
        "# Interop matrix",
        "",
        "<!-- Generated by tests/interop (tests/interop/matrix.py) from the interop suite's",
        "     results; do not edit. EVENTBUS_WRITE_INTEROP=1 pytest tests/interop rewrites it. -->",
        "",
        "Every row sends each of the suite's cases through the named broker with the official",
        "CloudEvents SDK on one side and eventbus on the other, and compares every attribute and",
        "the data on the receiving side. The eventbus column names the configuration the row",
        "needs (default: none).",
        "",
        "| language | SDK | module | broker / binding | mode | direction | eventbus | result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in ROWS:
        lines.append(
            f"| {row.language} | {row.sdk} | {row.module} | {row.broker} | {row.mode} | "
            f"{_DIRECTION[row.direction]} | {'default' if row.config == 'default' else f'`{row.config}`'} | "
            f"{_cell(row)} |"
        )
    lines += [
        "",
        "Defaults: NATS publishes in structured mode (sdk-go's `protocol/nats/v2` reads nothing",
        "else), Pub/Sub and Service Bus in binary mode; AMQP properties use the `cloudEvents:`",
        "prefix. Switches, per bus or per channel, as URL options or `EventBus` parameters:",
        "`content_mode=binary|structured` (`content_mode.CHANNEL=...`, `channel_options`) and",
        "`amqp_prefix=cloudEvents_` (JMS readers). Binary NATS needs a reader of ce- headers",
        "(sdk-go's JetStream module); sdk-go's core NATS module cannot read it.",
        "[Architecture](architecture.md) records why.",
    ]
    lines += [
        "",
        "Kafka publishes in binary mode (`content_mode=structured` switches). Every Kafka row",
        "also checks the record: its key is the `partitionkey` attribute (none without one: the",
        "binding's Key Mapper, which sdk-go and the JavaScript SDK apply by default and the Java",
        "SDK through its `PartitionKeyExtensionInterceptor`), and only an event without data in",
        "binary mode is a record without value. sdk-go's Kafka reader adds the record's",
        "`kafkaoffset`, `kafkapartition` and `kafkatopic` as extensions in binary mode; the",
        "suite drops those three (they describe the record, not the event that was sent).",
    ]
    lines += [
        "",
        "## Request-reply",
        "",
        "The requester sends a request; the responder reads `replyto` and `correlationid`",
        "and answers to `replyto` with `correlationid` copied and `causationid` = the request's",
        "`id` (docs/request-reply.md); the requester matches the reply on `causationid`. The",
        "SDK side uses only its own API and these attributes.",
        "",
        "| language | SDK | module | broker | requester | responder | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for rpc in RPC_ROWS:
        outcome = RPC_RESULTS.get(rpc.key)
        result = "not run" if outcome is None else (outcome or "pass")
        lines.append(
            f"| {rpc.language} | {rpc.sdk} | {rpc.module} | {rpc.broker} | {rpc.requester} | "
            f"{rpc.responder} | {result} |"
        )
    lines += ["", "## Cases", ""]
    lines += [f"- `{case.name}`: {case.what}" for case in KAFKA_CASES]
    if KNOWN:
        lines += ["", "## SDK limitations the suite found", ""]
        by_reason: dict[str, list[str]] = {}
        for (key, case), why in KNOWN.items():
            row = next(r for r in ROWS if r.key == key)
            where = f"{row.language} {row.module} {row.mode} {_DIRECTION[row.direction]}"
            by_reason.setdefault(why, []).append(f"{where}: `{case}`")
        for why, places in by_reason.items():
            lines.append(f"- {why}. Rows: {'; '.join(places)}.")
    return "\n".join(lines) + "\n"
