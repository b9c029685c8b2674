"""The adapter surface: the contract every adapter implements (``_contract``), the toolkit
adapters share (``_toolkit``, ``_helpers``, ``_keygate``), and adapter discovery through the
``eventbus.adapters`` entry points (``_hookspecs``, ``_plugins``).

Adapters import none of this directly: ``eventbus.adapter`` is their facade."""
