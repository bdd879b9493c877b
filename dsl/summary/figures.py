"""The figures of a row and of a model: MACs, activation and weight bytes,
None where kdsl does not know them."""

from __future__ import annotations

from ..records import record
from typing import Optional


@record(frozen=True)
class CallCost:
    """One application of a layer: its MACs and its outputs' bytes."""

    macs: Optional[int]
    activation_bytes: Optional[int]


@record(frozen=True)
class RowCost:
    """One row of the table: every call's costs, and the weights' bytes
    (counted once, however many calls share them)."""

    calls: tuple
    weight_bytes: Optional[int]

    @property
    def macs(self) -> Optional[int]:
        """The MACs of all its calls; None when one is unknown."""
        return costs_sum(c.macs for c in self.calls)

    @property
    def activation_bytes(self) -> Optional[int]:
        """The bytes of all its calls' outputs; None when one is unknown."""
        return costs_sum(c.activation_bytes for c in self.calls)


@record(frozen=True)
class Totals:
    """A model's figures: sums over its rows, with the rows whose figure is
    unknown (the sums are then lower bounds)."""

    macs: int
    activation_bytes: int
    weight_bytes: int
    unknown_macs: tuple
    unknown_activation: tuple
    unknown_weights: tuple


def costs_sum(values) -> Optional[int]:
    """The sum of VALUES, or None when any is None."""
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def sum_rows(rows: list) -> Totals:
    """Totals of (name, RowCost) pairs."""
    sums = {"macs": 0, "activation_bytes": 0, "weight_bytes": 0}
    unknown: dict = {key: [] for key in sums}
    for name, row in rows:
        for key in sums:
            value = getattr(row, key)
            if value is None:
                unknown[key].append(name)
            else:
                sums[key] += value
    return Totals(sums["macs"], sums["activation_bytes"], sums["weight_bytes"],
                  tuple(unknown["macs"]), tuple(unknown["activation_bytes"]), tuple(unknown["weight_bytes"]))
