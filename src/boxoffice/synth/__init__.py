"""Synthetic ticketing world: deterministic for a seed, with known ground truth."""

from boxoffice.synth.load import NotMigratedError, build_world, write_world_files
from boxoffice.synth.params import SCALES, Truth, WorldSpec

__all__ = ["SCALES", "NotMigratedError", "Truth", "WorldSpec", "build_world", "write_world_files"]
