import eventbus


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(eventbus) if not name.startswith("_")} - {"testing", "adapter"}
    assert set(eventbus.__all__) - {"__version__"} == public


def test_every_exported_error_derives_from_the_root() -> None:
    for name in eventbus.__all__:
        obj = getattr(eventbus, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, eventbus.EventBusError), name
