"""The data directory: made usable before anything is written there, or one clear line."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from taskrunner.errors import UserError

FIX = "set data_dir in the settings file or TASKRUNNER_DATA_DIR to a writable folder"
PRIVATE_UMASK = 0o077
"""Files 0600, folders 0700: what the runner writes (history, payloads, backups) is private."""


def ensure_data_dir(path: Path, *, private: bool = False) -> Path:
    """Create the folder (and its parents) and check that this process can write there.

    ``private``: from now on this process and its children (the embedded server) write
    files 0600 and folders 0700, and the data dir itself is made 0700 (files written
    before keep their mode).
    """
    if private:
        os.umask(PRIVATE_UMASK)
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            raise UserError(f"data dir {path} cannot be created: {part} is a file; {FIX}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except PermissionError:
        raise UserError(f"data dir {path} is not writable (permission denied); {FIX}") from None
    except OSError as err:
        if err.errno == errno.EROFS:
            raise UserError(
                f"data dir {path} is not writable (read-only file system); {FIX}"
            ) from None
        reason = err.strerror or type(err).__name__
        raise UserError(f"data dir {path} is not usable ({reason}); {FIX}") from None
    if private and path.stat().st_uid == os.getuid():
        path.chmod(0o700)
    return path
