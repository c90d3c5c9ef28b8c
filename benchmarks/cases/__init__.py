"""
The benchmark cases. Each module has ``measurements(opts) -> list[Measurement]``.

A `Measurement` names the work, its unit (sequences or frames) and how many units one call does,
and, per variant (``baseline`` first), a factory that builds models and inputs and returns the
zero-argument callable to time. Building happens outside the timed region.
"""

from dataclasses import dataclass, field

__all__ = ["Measurement", "CASES"]

#: Case modules in the order ``run.py`` runs them.
CASES = ("inference", "scanning", "end_to_end", "public_api", "training", "window_length")


@dataclass
class Measurement:
    """One row group of the table: the same work done by every variant."""

    case: str
    name: str
    unit: str
    count: int
    variants: dict
    #: FLOPs of one call per variant (for the achieved GFLOP/s); missing variants are not rated.
    flops: dict = field(default_factory=dict)
    #: Measure peak memory in a fresh subprocess per variant.
    probe: bool = True
    #: Rate of a variant derived from other measurements instead of timed (variant -> (rate, how)).
    derived: dict = field(default_factory=dict)
    #: Count per variant when a variant does the same work on a shorter stretch (documented per case).
    counts: dict = field(default_factory=dict)
    note: str = ""
    #: Warm-up calls per variant before timing, and at most this many timed runs (None: ``--repeats``).
    warmup: int = 1
    max_repeats: int | None = None
    #: The variant the ``×`` column divides by.
    reference: str = "baseline"
    #: Variants whose stages are timed in one more, untimed call (variant -> factory of the callable);
    #: see ``cases/_stages.py``.
    stages: dict = field(default_factory=dict)

    def count_of(self, variant: str) -> int:
        return self.counts.get(variant, self.count)
