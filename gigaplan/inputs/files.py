"""Reading a user's files: regular files only, bounded in size, never blocking.

A path given where a file is expected may name anything: a FIFO (a plain ``open`` waits
forever for a writer), a device (``/dev/zero`` never ends), or a file of many gigabytes. Each
file is opened with ``O_NONBLOCK``, checked with ``fstat`` before a byte is read, refused
unless it is a regular file, and read up to a size limit. Standard input (``batch -``) is a
pipe by nature; it is read up to the same limit as a batch file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from gigaplan.errors import InputError

MIB = 2**20
MAX_FILE_BYTES = 16 * MIB  # a site, study, catalog or plan JSON file (the bundled ones: 30 kB)
MAX_BATCH_BYTES = 256 * MIB  # a batch input file or its standard input (about a million rows)


def _too_big(source: str, size: int, limit: int) -> str:
    return (f"{source}: {size / MIB:,.1f} MiB is more than the {limit // MIB} MiB a gigaplan "
            "input file may have")


def read_bytes(path: Path, error: type[InputError] = InputError, limit: int = MAX_FILE_BYTES,
               kind: str = "file") -> bytes:
    """The bytes of the regular file ``path``; every refusal is a one-line ``error``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{path}: is a directory, expected a {kind}")
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: is not a regular file (a FIFO, device or socket); "
                        f"expected a {kind}")
        if info.st_size > limit:
            raise error(_too_big(str(path), info.st_size, limit))
        with os.fdopen(os.dup(fd), "rb") as stream:
            return _bounded(stream, str(path), limit, error)
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)


def read_stream(stream: BinaryIO, source: str, limit: int = MAX_BATCH_BYTES,
                error: type[InputError] = InputError) -> bytes:
    """Up to ``limit`` bytes of ``stream`` (standard input); more is a one-line ``error``."""
    return _bounded(stream, source, limit, error)


def _bounded(stream: BinaryIO, source: str, limit: int, error: type[InputError]) -> bytes:
    data = stream.read(limit + 1)  # a file that grew since fstat is caught here too
    if len(data) > limit:
        raise error(f"{source}: more than the {limit // MIB} MiB a gigaplan input may have")
    return data


def decode(data: bytes, source: str, error: type[InputError] = InputError,
           kind: str = "text file") -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{source}: not a UTF-8 {kind} (is it binary?)") from None
