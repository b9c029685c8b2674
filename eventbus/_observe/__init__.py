"""Observability middleware: structured logs and their JSON formatter (``_logs``), OpenTelemetry
metrics with a Prometheus text rendering (``_metrics``) and OpenTelemetry tracing with W3C
trace-context propagation (``_tracing``)."""
