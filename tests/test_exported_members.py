import eventbus


def test_all_lists_exactly_the_public_names() -> None:
    # "@py_builtins"/"@pytest_ar": pytest rewrites the asserts of a distribution that ships a
    # pytest11 plugin (ours: eventbus.testing.plugin), which adds these two globals.
    names = {name for name in dir(eventbus) if not name.startswith(("_", "@"))}
    public = names - {"testing", "adapter", "webhooks"}  # public submodules
    assert set(eventbus.__all__) - {"__version__"} == public


def test_every_exported_error_derives_from_the_root() -> None:
    for name in eventbus.__all__:
        obj = getattr(eventbus, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, eventbus.EventBusError), name
