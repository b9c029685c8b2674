"""Contracts: the schema registry and everything built on it (private; the facade exports it).

registry (disk layout, dataschema URIs) -> validate (jsonschema-rs validators, limits)
-> middleware (validation in the bus); model + kinds + diff/diff_scalars/diff_objects/diff_arrays
+ compat (Confluent's compatibility rules); expectations (+ expectations_types) for consumer-driven
contracts; lint, check, gitbase, asyncapi, vectors and cli for ``eventbus contracts ...``.
"""
