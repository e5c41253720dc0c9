"""Per-camera image checks: baselines, the reference view and the persistence rule."""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from monitoring.image.config import ImageCheckConfig
from monitoring.image.metrics import (
    Measures,
    Prepared,
    frame_difference,
    measure,
    prepare,
    rotation_signature,
    view_rotation,
    view_shift,
    windowed,
)

log = logging.getLogger(__name__)


class Condition(StrEnum):
    """What a frame shows, from the camera's point of view."""

    NORMAL = "normal"
    BLACK = "black"
    FROZEN = "frozen"
    COVERED = "covered"
    BLURRED = "blurred"
    MOVED = "moved"


# When several conditions hold, the first one names the picture: a black frame is also
# textureless and unsharp, but "black" is what a director needs to read.
PRIORITY = (
    Condition.BLACK,
    Condition.FROZEN,
    Condition.COVERED,
    Condition.BLURRED,
    Condition.MOVED,
)


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


@dataclass
class ImageCheckResult:
    """The verdict on one sample: the raised status, this sample's finding, and why."""

    status: Condition
    detected: Condition
    reason: str
    measures: dict[str, float]
    findings: dict[str, str] = field(default_factory=dict)
    streaks: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view."""
        return {
            "status": self.status.value,
            "detected": self.detected.value,
            "reason": self.reason,
            "measures": self.measures,
            "findings": self.findings,
            "streaks": self.streaks,
        }


class CameraImageChecker:
    """Classifies successive frames of one camera; keeps its baseline and persistence state."""

    def __init__(self, config: ImageCheckConfig | None = None, name: str = "camera") -> None:
        self.config = config or ImageCheckConfig()
        self.name = name
        self.baseline = Baseline()
        self.reference: Prepared | None = None
        self._reference_windowed: np.ndarray | None = None
        self._reference_rotation: np.ndarray | None = None
        self._history: deque[np.ndarray] = deque(maxlen=self.config.frozen_window)
        self._streaks = dict.fromkeys(PRIORITY, 0)

    def enrol(self, frames: Iterable[np.ndarray]) -> None:
        """Save the first frame as the reference view and learn the baseline from all of them."""
        for i, frame in enumerate(frames):
            prepared = prepare(frame, self.config)
            match = None
            if i == 0:
                self.reference = prepared
                self._reference_windowed = windowed(prepared.small)
                self._reference_rotation = rotation_signature(
                    prepared.small, self.config.moved_rotation_angles
                )
            else:  # the reference against itself would teach a perfect match
                match = view_shift(self._reference_windowed, windowed(prepared.small))[2]
            self.baseline.update(measure(prepared, self.config), self.config, match)
        if self.reference is None:
            raise ValueError("enrolment needs at least one frame")

    def check(self, frame: np.ndarray) -> ImageCheckResult:
        """Classify one sample and apply the persistence rule (K consecutive samples)."""
        cfg = self.config
        prepared = prepare(frame, cfg)
        m = measure(prepared, cfg)
        findings: dict[Condition, str] = {}
        values: dict[str, float] = {
            "brightness": round(m.brightness, 2),
            "contrast": round(m.contrast, 2),
            "sharpness": round(m.sharpness, 2),
            "edge_density": round(m.edge_density, 4),
        }
        warm = self.baseline.warm(cfg)
        for check in (self._black, self._frozen, self._covered, self._blurred, self._moved):
            found = check(prepared, m, warm, values)
            if found:
                findings[found[0]] = found[1]
        self._history.append(prepared.grey)

        detected = next((c for c in PRIORITY if c in findings), Condition.NORMAL)
        for c in PRIORITY:
            self._streaks[c] = self._streaks[c] + 1 if c in findings else 0
        raised = next((c for c in PRIORITY if self._streaks[c] >= cfg.persist_samples), None)
        if detected is Condition.NORMAL:
            self.baseline.update(m, cfg, values.get("view_match"))
        if raised is not None:
            status = raised
            reason = f"{findings[raised]} for {self._streaks[raised]} samples"
        elif detected is not Condition.NORMAL:
            status = Condition.NORMAL
            reason = (
                f"{detected.value} not raised yet ({self._streaks[detected]}/"
                f"{cfg.persist_samples} samples): {findings[detected]}"
            )
        else:
            status = Condition.NORMAL
            reason = "all checks within thresholds" + ("" if warm else " (baseline warming up)")
        if status is not Condition.NORMAL:
            log.info("%s: %s (%s)", self.name, status.value, reason)
        return ImageCheckResult(
            status=status,
            detected=detected,
            reason=reason,
            measures=values,
            findings={c.value: r for c, r in findings.items()},
            streaks={c.value: n for c, n in self._streaks.items() if n},
        )

    # Each check returns (condition, reason) when it holds, and records what it measured.

    def _black(self, p: Prepared, m: Measures, warm: bool, v: dict[str, float]):
        cfg, b = self.config, self.baseline
        limit = cfg.black_max_mean
        if warm:
            limit = max(limit, cfg.black_relative_mean * b.brightness)
        if m.contrast <= cfg.black_max_std and m.brightness <= limit:
            return Condition.BLACK, (
                f"brightness {m.brightness:.1f} <= {limit:.1f} and contrast "
                f"{m.contrast:.1f} <= {cfg.black_max_std:.1f}"
            )
        return None

    def _frozen(self, p: Prepared, m: Measures, warm: bool, v: dict[str, float]):
        cfg = self.config
        if len(self._history) < cfg.frozen_window:
            return None
        diff = max(frame_difference(p.grey, old) for old in self._history)
        v["frame_difference"] = round(diff, 3)
        if diff <= cfg.frozen_max_diff:
            return Condition.FROZEN, (
                f"difference to each of the last {cfg.frozen_window} samples {diff:.3f} "
                f"<= {cfg.frozen_max_diff}"
            )
        return None

    def _covered(self, p: Prepared, m: Measures, warm: bool, v: dict[str, float]):
        cfg, b = self.config, self.baseline
        limit: float | np.ndarray = cfg.covered_cell_std
        if warm and b.cell_std is not None and b.cell_std.shape == m.cell_std.shape:
            limit = np.minimum(cfg.covered_cell_std, cfg.covered_cell_ratio * b.cell_std)
        flat = float(np.mean(m.cell_std < limit))
        v["textureless_fraction"] = round(flat, 3)
        if flat < cfg.covered_min_fraction:
            return None
        why = f"textureless cells {flat:.0%} >= {cfg.covered_min_fraction:.0%}"
        if warm:
            edge_limit = cfg.covered_edge_ratio * b.edge_density
            if m.edge_density > edge_limit:
                return None
            why += f", edge density {m.edge_density:.4f} <= {edge_limit:.4f}"
        return Condition.COVERED, why

    def _blurred(self, p: Prepared, m: Measures, warm: bool, v: dict[str, float]):
        cfg, b = self.config, self.baseline
        if warm:
            limit = cfg.blur_relative * b.sharpness
            basis = f"{cfg.blur_relative} x baseline {b.sharpness:.1f}"
        else:
            limit, basis = cfg.blur_absolute, "absolute floor"
        if m.sharpness < limit:
            return Condition.BLURRED, f"sharpness {m.sharpness:.1f} < {limit:.1f} ({basis})"
        return None

    def _moved(self, p: Prepared, m: Measures, warm: bool, v: dict[str, float]):
        cfg = self.config
        if self._reference_windowed is None:
            return None
        dx, dy, response = view_shift(self._reference_windowed, windowed(p.small))
        width = p.small.shape[1]
        shift = math.hypot(dx, dy) / width if math.isfinite(dx) else float("inf")
        v["view_shift"] = round(shift, 4)
        v["view_match"] = round(response, 3)
        if shift > cfg.moved_max_shift:
            return Condition.MOVED, (
                f"view shifted {shift:.1%} of the width > {cfg.moved_max_shift:.1%}"
            )
        if self._reference_rotation is not None:
            turn, _ = view_rotation(
                self._reference_rotation, rotation_signature(p.small, cfg.moved_rotation_angles)
            )
            v["view_rotation"] = round(turn, 2)
            if abs(turn) > cfg.moved_max_rotation:
                return Condition.MOVED, (
                    f"view rotated {turn:+.1f}° > ±{cfg.moved_max_rotation:.1f}°"
                )
        limit, basis = cfg.moved_min_response, "absolute floor"
        usual = self.baseline.view_match
        if warm and usual is not None and cfg.moved_response_ratio * usual > limit:
            limit = cfg.moved_response_ratio * usual
            basis = f"{cfg.moved_response_ratio} x usual {usual:.3f}"
        if response < limit:
            return Condition.MOVED, (
                f"view match {response:.3f} < {limit:.3f} ({basis}): reference view lost"
            )
        return None
