"""Damaging files on purpose, for the tests of what detects it."""

from pathlib import Path


def flip_last_byte(path: Path) -> None:
    """Invert every bit of the file's last byte: same size, another sha256."""
    with open(path, "r+b") as handle:
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 0xFF]))
