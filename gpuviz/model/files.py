"""Writing a file whole: it is either its old content or all of the new, never half written."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from .limits import MAX_NAME_BYTES


def kind_of(mode: int) -> str:
    """What a file of ``mode`` (``os.stat``'s ``st_mode``) is, in words, for a refusal: "a folder", "a FIFO …"."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def name_max(folder: Path) -> int:
    """The longest file name (bytes) ``folder``'s file system takes; :data:`~gpuviz.model.limits.MAX_NAME_BYTES`
    where it does not say."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):  # not POSIX, or the file system does not say
        return MAX_NAME_BYTES


def probe_write(folder) -> None:
    """Create a file in ``folder`` and remove it again; raises the OSError when the folder takes none.

    ``os.access`` answers yes to root everywhere (``/proc`` included): only a real file says that a write will
    work, before a long run or any source is read."""
    fd, probe = tempfile.mkstemp(dir=folder, prefix=".gpuviz-check-", suffix=".part")
    os.close(fd)
    os.unlink(probe)


def _umask() -> int:
    # os.umask can only be read by setting it; set it back at once
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that ``path`` is either its old content or all of ``data``.

    The bytes go to a temporary file in the same folder (a rename across file systems is not atomic), are
    fsynced, get the permissions a new file gets here (``mkstemp`` makes them private, but pictures, scenarios
    and results are meant to be shared), then replace ``path``; on any failure the temporary file is removed
    and ``path`` is untouched. Returns ``path``.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def write_text_atomic(path, text: str) -> Path:
    """:func:`write_atomic` of ``text`` as UTF-8 with ``\\n`` line ends."""
    return write_atomic(path, text.encode("utf-8"))


__all__ = ["write_atomic", "write_text_atomic"]
