"""The wire layer: the event model, the JSON event format and the protocol bindings.

Pure functions and immutable values only: nothing here does I/O, knows a broker SDK, or imports
the bus. Bindings turn an :class:`~eventbus.Event` into a :class:`~eventbus.Message` (headers plus
body) and back; adapters move messages without looking inside.
"""
