"""Encryption keys from ``encryption.key_file``: one key a line, the newest last encrypts,
every listed key decrypts; a file that cannot give keys is one line naming it and the fix."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest

from taskrunner.encryption import converter_for, load_keys, new_key_line
from taskrunner.encryption.codec import ENCODING, KEY_ID_METADATA
from taskrunner.errors import ConfigError
from tests.helpers import free_port
from tests.helpers.cli import run_cli

RECIPIENT = "grace.hopper@navy.example"
TASK = {"recipient": RECIPIENT, "subject": "Quarterly-launch-codes"}
FIX = "point encryption.key_file (TASKRUNNER_ENCRYPTION__KEY_FILE) at a file of key lines"


def key_file(folder: Path, *lines: str) -> Path:
    path = folder / "payload.keys"
    path.write_text("".join(f"{line}\n" for line in lines))
    path.chmod(0o600)
    return path


async def test_keys_are_read_from_the_key_file_and_the_last_one_encrypts(
    make_settings: Any, tmp_path: Path
) -> None:
    old, new = new_key_line("old"), new_key_line("new")
    (tmp_path / "before").mkdir()
    earlier = make_settings(encryption={"key_file": str(key_file(tmp_path / "before", old))})
    [written_before] = await converter_for(earlier.encryption).encode([TASK])

    path = key_file(tmp_path, "# rotated 2024-06: old decrypts only", old, "", f"{new}  # now")
    settings = make_settings(encryption={"key_file": str(path)})
    ring = load_keys(settings.encryption)
    assert ring is not None and ring.source == f"encryption.key_file {path}"
    assert list(ring.keys) == ["old", "new"] and ring.current == "new"
    assert ring.keys["new"] == base64.b64decode(new.split(":", 1)[1])

    converter = converter_for(settings.encryption)
    [sealed] = await converter.encode([TASK])
    assert sealed.metadata == {"encoding": ENCODING, KEY_ID_METADATA: b"new"}
    assert RECIPIENT.encode() not in sealed.data
    assert await converter.decode([sealed]) == [TASK]
    # A payload written before the rotation, under the old key alone, still decrypts.
    assert written_before.metadata[KEY_ID_METADATA] == b"old"
    assert await converter.decode([written_before]) == [TASK]


def test_the_key_variable_when_set_wins_over_the_key_file(
    make_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = key_file(tmp_path, new_key_line("from-file"))
    settings = make_settings(encryption={"key_file": str(path)})
    monkeypatch.setenv("TASKRUNNER_ENCRYPTION_KEYS", new_key_line("from-env"))
    ring = load_keys(settings.encryption)
    assert ring is not None and list(ring.keys) == ["from-env"]
    monkeypatch.setenv("TASKRUNNER_ENCRYPTION_KEYS", "  ")  # empty: the file is read
    ring = load_keys(settings.encryption)
    assert ring is not None and list(ring.keys) == ["from-file"]


def refusal(make_settings: Any, path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_keys(make_settings(encryption={"key_file": str(path)}).encryption)
    message = str(caught.value)
    assert f"encryption.key_file {path}" in message and "\n" not in message, message
    return message


def unreadable(path: Path, kind: str) -> Path:
    """A key file path that gives no text: ``missing``, ``a-folder`` or ``binary``."""
    if kind == "a-folder":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(b"\xff" * 32)  # a raw key written where key lines belong
    return path


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("missing", "cannot read encryption.key_file {path} (No such file or directory); "),
        ("a-folder", "cannot read encryption.key_file {path} (Is a directory); "),
        ("binary", "encryption.key_file {path} is not UTF-8 text; "),
    ],
    ids=["missing", "a-folder", "binary"],
)
def test_a_key_file_that_cannot_be_read_is_one_line_naming_it_and_the_fix(
    make_settings: Any, tmp_path: Path, kind: str, says: str
) -> None:
    path = unreadable(tmp_path / "payload.keys", kind)
    message = refusal(make_settings, path)
    assert message == (
        says.format(path=path) + f"{FIX}, made with: taskrunner encryption-key >> {path} "
        "(keep it 0600), or unset it"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a mode-000 file")
def test_a_key_file_without_read_permission_is_one_line(make_settings: Any, tmp_path: Path) -> None:
    path = key_file(tmp_path, new_key_line("k1"))
    path.chmod(0o000)
    assert "(Permission denied); " + FIX in refusal(make_settings, path)


def test_a_bad_or_empty_key_file_is_one_line_that_does_not_echo_a_key(
    make_settings: Any, tmp_path: Path
) -> None:
    short = base64.b64encode(b"sixteen-byte-key").decode()
    message = refusal(make_settings, key_file(tmp_path, new_key_line("k1"), f"k2:{short}"))
    assert message == (
        f"key 'k2' in encryption.key_file {tmp_path / 'payload.keys'} is not the base64 of "
        "32 bytes (make one with: taskrunner encryption-key)"
    )
    assert short not in message
    message = refusal(make_settings, key_file(tmp_path, "k1 " + short))
    assert "key 1 in" in message and "is not '<id>:<base64 key>'" in message
    assert short not in message
    message = refusal(make_settings, key_file(tmp_path, "# keys go here", ""))
    assert message.endswith("holds no key (make one with: taskrunner encryption-key)")


def test_the_cli_says_a_missing_key_file_in_one_line(tmp_path: Path) -> None:
    done = run_cli(
        "codec-server",
        "--port",
        str(free_port()),
        cwd=tmp_path,
        TASKRUNNER_ENCRYPTION__KEY_FILE="payload.keys",  # relative: to the working folder
    )
    assert done.returncode == 2, done
    assert done.stderr == (
        "error: cannot read encryption.key_file payload.keys (No such file or directory); "
        f"{FIX}, made with: taskrunner encryption-key >> payload.keys (keep it 0600), "
        "or unset it\n"
    )
