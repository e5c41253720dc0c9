"""What the image checks find and learn: conditions, modes, baselines, findings, verdicts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from monitoring.image.config import ImageCheckConfig
from monitoring.image.metrics import Measures

log = logging.getLogger(__name__)


class Condition(StrEnum):
    """What a frame shows, from the camera's point of view."""

    NORMAL = "normal"
    BLACK = "black"
    FROZEN = "frozen"
    COVERED = "covered"
    BLURRED = "blurred"
    MOVED = "moved"


class Mode(StrEnum):
    """How the camera sees: in colour (day) or black and white (infrared, night)."""

    COLOUR = "colour"
    MONO = "mono"


# When several conditions hold, the first one names the picture: a black frame is also
# textureless and unsharp, but "black" is what a director needs to read.
PRIORITY = (
    Condition.BLACK,
    Condition.FROZEN,
    Condition.COVERED,
    Condition.BLURRED,
    Condition.MOVED,
)


STATE_VERSION = 1


@dataclass
class Baseline:
    """Running statistics of a camera's normal frames (mean per measure, EMA once warm)."""

    samples: int = 0
    brightness: float = 0.0
    sharpness: float = 0.0
    edge_density: float = 0.0
    cell_std: np.ndarray | None = None
    view_match: float | None = None
    view_samples: int = 0

    def warm(self, config: ImageCheckConfig) -> bool:
        """True once enough normal samples were seen for relative thresholds."""
        return self.samples >= config.baseline_min_samples

    def update(
        self, m: Measures, config: ImageCheckConfig, view_match: float | None = None
    ) -> None:
        """Fold one normal sample into the baseline."""
        self.samples += 1
        # A plain mean while warming up, then an exponential average so the baseline follows
        # slow changes (dusk, seasons) without forgetting the scene.
        w = max(1.0 / self.samples, config.baseline_alpha)
        self.brightness += w * (m.brightness - self.brightness)
        self.sharpness += w * (m.sharpness - self.sharpness)
        self.edge_density += w * (m.edge_density - self.edge_density)
        if self.cell_std is None:
            self.cell_std = m.cell_std.copy()
        else:
            self.cell_std += w * (m.cell_std - self.cell_std)
        if view_match is not None:
            self.view_samples += 1
            wv = max(1.0 / self.view_samples, config.baseline_alpha)
            self.view_match = (self.view_match or 0.0) + wv * (
                view_match - (self.view_match or 0.0)
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (a few hundred bytes: the cell grid is 8 x 6 numbers)."""
        return {
            "samples": self.samples,
            "brightness": round(self.brightness, 4),
            "sharpness": round(self.sharpness, 4),
            "edge_density": round(self.edge_density, 6),
            "cell_std": (None if self.cell_std is None else np.round(self.cell_std, 3).tolist()),
            "view_match": None if self.view_match is None else round(self.view_match, 5),
            "view_samples": self.view_samples,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], config: ImageCheckConfig) -> Baseline:
        """The baseline saved by to_dict; ValueError when it does not fit this configuration."""
        cells = data.get("cell_std")
        cell_std = None
        if cells is not None:
            cell_std = np.asarray(cells, dtype=np.float32)
            if cell_std.shape != (config.grid_rows, config.grid_cols):
                raise ValueError("cell grid changed")
        view_match = data.get("view_match")
        return cls(
            samples=int(data["samples"]),
            brightness=float(data["brightness"]),
            sharpness=float(data["sharpness"]),
            edge_density=float(data["edge_density"]),
            cell_std=cell_std,
            view_match=None if view_match is None else float(view_match),
            view_samples=int(data.get("view_samples", 0)),
        )


@dataclass(frozen=True)
class Finding:
    """One condition found in a sample: what was measured against which thresholds."""

    condition: Condition
    text: str  # English, for logs and the command line
    values: dict[str, float]
    limits: dict[str, float]
    basis: str = "absolute"  # "absolute" thresholds, or this camera's "baseline"
    aspect: str = ""  # which test of the condition held (moved: shift, rotation, match)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view; pages build their own sentences from it."""
        return {
            "code": self.condition.value,
            "aspect": self.aspect,
            "basis": self.basis,
            "values": self.values,
            "limits": self.limits,
            "text": self.text,
        }


@dataclass
class ImageCheckResult:
    """The verdict on one sample or probe: the raised status, its finding, and why."""

    status: Condition
    detected: Condition
    reason: str
    measures: dict[str, float]
    findings: dict[str, str] = field(default_factory=dict)
    streaks: dict[str, int] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    suspected: bool = False  # detected now, not yet seen in enough consecutive samples/probes
    needed: int = 1  # K: consecutive samples (or probes) before a condition is raised
    mode: Mode = Mode.COLOUR
    warm: bool = False  # relative (baseline) thresholds applied

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view."""
        return {
            "status": self.status.value,
            "detected": self.detected.value,
            "suspected": self.suspected,
            "reason": self.reason,
            "measures": self.measures,
            "findings": self.findings,
            "evidence": self.evidence,
            "streaks": self.streaks,
            "needed": self.needed,
            "mode": self.mode.value,
            "warm": self.warm,
        }
