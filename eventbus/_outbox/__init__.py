"""The transactional outbox: events written with the business data, relayed to the broker."""

from eventbus._outbox._model import OutboxRow, OutboxStore
from eventbus._outbox._postgres import PostgresOutbox
from eventbus._outbox._relay import OutboxRelay, RelayStats
from eventbus._outbox._sqlite import SqliteOutbox

__all__ = [
    "OutboxRelay",
    "OutboxRow",
    "OutboxStore",
    "PostgresOutbox",
    "RelayStats",
    "SqliteOutbox",
    "open_outbox",
]


def open_outbox(url: str, *, table: str = "eventbus_outbox") -> OutboxStore:
    """The outbox at a database URL: ``sqlite:///path.db`` or ``postgresql://...``."""
    from eventbus._errors import ConfigurationError, redact_url

    if url.startswith("sqlite:"):
        return SqliteOutbox(url, table=table)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresOutbox(url, table=table)
    raise ConfigurationError(
        f"unsupported outbox database URL {redact_url(url)!r}: "
        "use sqlite:///path.db or postgresql://user:password@host/database"
    )
