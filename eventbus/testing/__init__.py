"""Test helpers for users and adapter authors.

``AdapterConformance``: the scenario suite every adapter must pass (the in-memory adapter and
every broker adapter run the same tests). ``run`` and ``wait_until``: small helpers for tests
that drive a bus. ``unavailable``: what a test does when a server or tool it needs is missing
(fails in CI, skips elsewhere). ``PublishedEvents`` and ``ContractChecks``: capture and contract assertions
(the pytest plugin, ``eventbus.testing.plugin``, offers them as ``eventbus_*`` fixtures). For
fault injection in your own tests, use ``memory://NAME?seed=...`` with ``duplicate``,
``reorder``, ``crash_before_ack`` and ``slow`` (see the memory adapter docs). ``BasicAdapter``
(``basic://NAME``): a broker without native retry features, so tests run the bus's fallbacks
(local attempt counting, sleep-then-nack, dead letters by publishing, in-process retry), with
injectable publish failures. ``serve_asgi``: an ASGI app (an ``IngressApp``) under a real
uvicorn server on a free port.
"""

from eventbus.testing._asgi import serve_asgi
from eventbus.testing._basic import BasicAdapter, register_basic_adapter
from eventbus.testing._capture import PublishedEvents
from eventbus.testing._conformance import AdapterConformance, run, wait_until
from eventbus.testing._tools import unavailable
from eventbus.testing.plugin import ContractChecks

__all__ = [
    "AdapterConformance",
    "BasicAdapter",
    "ContractChecks",
    "PublishedEvents",
    "register_basic_adapter",
    "run",
    "serve_asgi",
    "unavailable",
    "wait_until",
]
