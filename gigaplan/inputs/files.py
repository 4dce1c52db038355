"""Reading a user's files: regular files only, bounded in size, never blocking.

A path given where a file is expected may name anything: a FIFO (a plain ``open`` waits
forever for a writer), a device (``/dev/zero`` never ends), or a file of many gigabytes. Each
file is opened with ``O_NONBLOCK``, checked with ``fstat`` before a byte is read, refused
unless it is a regular file, and read up to a size limit. Standard input (``batch -``) is a
pipe by nature; a batch streams it (or its file) line by line, each line bounded in size.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from gigaplan.errors import InputError

MIB = 2**20
_read: set[tuple[int, int]] = set()  # (device, inode) of each regular file this command read
MAX_FILE_BYTES = 16 * MIB  # a site, study, catalog or plan JSON file (the bundled ones: 30 kB)
MAX_LINE_BYTES = 16 * MIB  # one row of a batch (a batch streams: it may have any number)


def _too_big(source: str, size: int, limit: int) -> str:
    return (f"{source}: {size / MIB:,.1f} MiB is more than the {limit // MIB} MiB a gigaplan "
            "input file may have")


def open_regular(path: Path, error: type[InputError] = InputError, kind: str = "file"
                 ) -> BinaryIO:
    """``path`` opened for binary reading, if it is a regular file; else a one-line ``error``.

    Opened with ``O_NONBLOCK`` and checked with ``fstat`` before anything is read, so a FIFO
    never blocks and a device is never read.

    Parameters
    ----------
    path : pathlib.Path
        The file to open.
    error : type of InputError, default InputError
        The error class raised on failure.
    kind : str, default "file"
        What the file is, named in the message.

    Returns
    -------
    typing.BinaryIO
        The open file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from None
    except ValueError:  # a NUL character, from a batch row or a study's file = "..."
        raise error(f"{path}: not a file name (it contains a NUL character)") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{path}: is a directory, expected a {kind}")
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: is not a regular file (a FIFO, device or socket); "
                        f"expected a {kind}")
        _read.add((info.st_dev, info.st_ino))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def forget_reads() -> None:
    """Start a command afresh: no file counts as its input yet (see :func:`is_input`)."""
    _read.clear()


def is_input(path: Path) -> bool:
    """Whether ``path`` (or the file a symlink names) is a file this command has read.

    An output written over one of the command's own inputs (``batch rows.jsonl -o
    rows.jsonl``, ``plan site.toml -o site.toml``) would destroy it: a batch truncates its
    input before reading a row; a plan replaces the site it was planned from.

    Parameters
    ----------
    path : pathlib.Path
        An output path.

    Returns
    -------
    bool
        True when it is the same file (device and inode) as one read by this command.
    """
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return False
    return (info.st_dev, info.st_ino) in _read


def read_bytes(path: Path, error: type[InputError] = InputError, limit: int = MAX_FILE_BYTES,
               kind: str = "file") -> bytes:
    """The bytes of the regular file ``path``, at most ``limit``; every refusal is one line.

    Parameters
    ----------
    path : pathlib.Path
        The file to read.
    error : type of InputError, default InputError
        The error class raised on failure.
    limit : int, default MAX_FILE_BYTES
        Largest size read [bytes].
    kind : str, default "file"
        What the file is, named in the message.

    Returns
    -------
    bytes
        The file's content.
    """
    with open_regular(path, error, kind) as stream:
        try:
            size = os.fstat(stream.fileno()).st_size
            if size > limit:
                raise error(_too_big(str(path), size, limit))
            return _bounded(stream, str(path), limit, error)
        except OSError as exc:
            raise error(f"{path}: cannot be read ({exc.strerror})") from None


class LongLine(str):
    """Stands for a line longer than ``limit`` bytes, which was skipped unread."""

    limit: int = 0


def lines(stream: BinaryIO, source: str, limit: int = MAX_LINE_BYTES,
          error: type[InputError] = InputError) -> Iterator[str]:
    """The UTF-8 lines of ``stream``, one at a time; a line over ``limit`` bytes is skipped
    (without holding it) and stands as a :class:`LongLine`, so memory stays bounded.

    Parameters
    ----------
    stream : typing.BinaryIO
        The stream to read.
    source : str
        Where the stream comes from, named in errors.
    limit : int, default MAX_LINE_BYTES
        Longest line kept [bytes].
    error : type of InputError, default InputError
        The error class raised on undecodable text.

    Returns
    -------
    iterator of str
        Each line, or a :class:`LongLine` in place of one over ``limit``.
    """
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            long = LongLine("")
            long.limit = limit
            yield long
            continue
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            raise error(f"{source}:{number}: not UTF-8 text (is it binary?)") from None


def read_stream(stream: BinaryIO, source: str, limit: int = MAX_FILE_BYTES,
                error: type[InputError] = InputError) -> bytes:
    """Up to ``limit`` bytes of ``stream`` (standard input); more is a one-line ``error``.

    Parameters
    ----------
    stream : typing.BinaryIO
        The stream to read.
    source : str
        Where the stream comes from, named in errors.
    limit : int, default MAX_FILE_BYTES
        Largest size read [bytes].
    error : type of InputError, default InputError
        The error class raised when the stream is longer.

    Returns
    -------
    bytes
        The stream's content.
    """
    return _bounded(stream, source, limit, error)


def _bounded(stream: BinaryIO, source: str, limit: int, error: type[InputError]) -> bytes:
    data = stream.read(limit + 1)  # a file that grew since fstat is caught here too
    if len(data) > limit:
        raise error(f"{source}: more than the {limit // MIB} MiB a gigaplan input may have")
    return data


def decode(data: bytes, source: str, error: type[InputError] = InputError,
           kind: str = "text file") -> str:
    """``data`` as UTF-8 text; anything else is a one-line ``error`` naming ``source``.

    Parameters
    ----------
    data : bytes
        The raw content.
    source : str
        Where it came from, named in errors.
    error : type of InputError, default InputError
        The error class raised on failure.
    kind : str, default "text file"
        What the content is, named in the message.

    Returns
    -------
    str
        The decoded text.
    """
    try:  # a leading byte-order mark (Notepad, Excel) is not content
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise error(f"{source}: not a UTF-8 {kind} (is it binary?)") from None


class NonFinite(ValueError):
    """``NaN`` or ``Infinity`` in a JSON document: Python reads them, but JSON has no such
    numbers and gigaplan never writes them."""


def no_non_finite(constant: str) -> float:
    """``parse_constant`` for :func:`json.loads`: refuse ``NaN``, ``Infinity``, ``-Infinity``.

    Parameters
    ----------
    constant : str
        The constant as written.

    Returns
    -------
    float
        Never: it raises :class:`NonFinite`.
    """
    raise NonFinite(f"{constant} is not a JSON number")
