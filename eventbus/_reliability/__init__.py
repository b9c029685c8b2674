"""Reliability middleware: the circuit breaker (``_breaker``) and the retry budget (``_budget``).

Both are consume middleware; idempotent consumption has its own package (``_idempotency``)."""
