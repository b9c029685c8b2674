"""The dead-letter queue tool: read, filter, replay and purge a channel's dead letters
(``_queue``: ``DeadLetterQueue``; ``_entry``: ``DeadLetterEntry``, ``DeadLetterFilter``) and the
``eventbus dlq`` command (``_cli``). It works through the adapter contract's optional browsing,
removing and group-admin protocols (docs/reliability.md)."""
