"""The bus layer: publish, subscribe and the consume pipeline.

``EventBus`` resolves an adapter from the URL, encodes with the wire layer, and runs each
subscription's pipeline (decode, filter, middleware, handler, settle: retry, dead letter, ack).
It talks to brokers only through the adapter contract, never a broker SDK.
"""
