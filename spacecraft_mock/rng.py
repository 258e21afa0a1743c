"""Named, independent random streams: one ``numpy.random.Generator`` (PCG64) per subsystem.

Every stream is derived from the world seed and a stable hash of its name (CRC-32, not Python's
salted ``hash``), so adding a subsystem or drawing more numbers in one stream never changes what
another stream draws. Same seed, same names, same calls: same numbers, on every machine.
"""

from __future__ import annotations

import zlib

import numpy as np


class RandomStreams:
    """A factory of per-subsystem generators for one seed."""

    __slots__ = ("_streams", "seed")

    def __init__(self, seed: int) -> None:
        if seed < 0:
            msg = f"seed must be >= 0, not {seed}"
            raise ValueError(msg)
        self.seed = seed
        self._streams: dict[str, np.random.Generator] = {}

    def stream(self, name: str) -> np.random.Generator:
        """The generator named ``name`` (created on first use, then the same object)."""
        generator = self._streams.get(name)
        if generator is None:
            key = zlib.crc32(name.encode("utf-8"))
            sequence = np.random.SeedSequence([self.seed, key])
            generator = np.random.Generator(np.random.PCG64(sequence))
            self._streams[name] = generator
        return generator


class NormalBlock:
    """Gaussian noise drawn from a stream in blocks: the same numbers for the same sequence of
    calls, at a fraction of numpy's per-call cost (housekeeping draws thousands per second)."""

    __slots__ = ("_block", "_generator", "_index", "size")

    def __init__(self, generator: np.random.Generator, size: int = 4096) -> None:
        self._generator = generator
        self.size = size
        self._block: list[float] = []
        self._index = 0

    def normal(self, loc: float = 0.0, scale: float = 1.0) -> float:
        if self._index >= len(self._block):
            self._block = self._generator.standard_normal(self.size).tolist()
            self._index = 0
        value = self._block[self._index]
        self._index += 1
        return loc + scale * value
