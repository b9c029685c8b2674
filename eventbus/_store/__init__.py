"""The store layer: database plumbing shared by every durable feature.

One SQLite worker thread per database and a small psycopg pool for PostgreSQL, with error texts
cleaned of secrets; the idempotency stores and the transactional outbox build on it.
"""
