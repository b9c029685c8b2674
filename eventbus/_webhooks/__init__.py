"""Webhooks: Standard Webhooks signatures, outbound delivery to HTTP endpoints, HTTP ingress."""
