"""``eventbus webhooks ...`` against a real receiver and a SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from standardwebhooks import Webhook
from webhook_receiver import Receiver

from eventbus._cli._main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_show_disable_enable_test_remove(
    receiver: Receiver, path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path}/cli.db"
    code, out, _ = run(
        capsys,
        "webhooks",
        "add",
        receiver.url(path),
        "--type",
        "a.b",
        "--type",
        "c.>",
        "--store",
        store,
        "--allow",
        "127.0.0.0/8",
        "--schedule",
        "1,2",
        "--json",
    )
    assert code == 0
    added = json.loads(out)
    endpoint_id, secret = added["id"], added["secret"]
    assert added["event_types"] == ["a.b", "c.>"]
    assert added["schedule"] == [1.0, 2.0]

    code, out, _ = run(capsys, "webhooks", "list", "--store", store, "--json")
    (listed,) = json.loads(out)
    assert listed["id"] == endpoint_id
    assert "secret" not in listed and secret not in out

    code, out, _ = run(capsys, "webhooks", "show", endpoint_id, "--store", store)
    assert code == 0 and "enabled: True" in out and secret not in out

    assert run(capsys, "webhooks", "disable", endpoint_id, "--store", store)[0] == 0
    code, out, _ = run(capsys, "webhooks", "show", endpoint_id, "--store", store, "--json")
    assert json.loads(out)["enabled"] is False
    assert run(capsys, "webhooks", "enable", endpoint_id, "--store", store)[0] == 0

    code, out, _ = run(
        capsys, "webhooks", "test", endpoint_id, "--store", store, "--allow", "127.0.0.0/8"
    )
    assert code == 0, out
    (request,) = receiver.posts(path)
    assert request.headers["ce-type"] == "eventbus.webhooks.test"
    Webhook(secret).verify(request.body, request.headers, json_parse=False)

    receiver.script(path, ("status", 500))
    code, _, err = run(
        capsys, "webhooks", "test", endpoint_id, "--store", store, "--allow", "127.0.0.0/8"
    )
    assert code == 1 and "HTTP 500" in err

    assert run(capsys, "webhooks", "remove", endpoint_id, "--store", store)[0] == 0
    code, _, err = run(capsys, "webhooks", "show", endpoint_id, "--store", store)
    assert code == 2 and endpoint_id in err


def test_argument_errors_exit_2(
    receiver: Receiver, path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path}/cli.db"
    with pytest.raises(SystemExit) as missing_type:
        main(["webhooks", "add", receiver.url(path), "--store", store])
    assert missing_type.value.code == 2
    with pytest.raises(SystemExit) as bad_schedule:
        main(["webhooks", "add", receiver.url(path), "--type", "a", "--schedule", "x,y"])
    assert bad_schedule.value.code == 2
    capsys.readouterr()
    with pytest.raises(SystemExit) as bad_secret:
        main(
            ["webhooks", "add", receiver.url(path), "--type", "a", "--secret", "not-a-secret-value"]
        )
    assert bad_secret.value.code == 2
    err = capsys.readouterr().err
    assert "whsec_" in err and "not-a-secret-value" not in err
    code, _, err = run(
        capsys, "webhooks", "add", receiver.url(path), "--type", "a", "--store", store
    )
    assert code == 1 and "loopback" in err  # refused by the SSRF guard: not an argument error
