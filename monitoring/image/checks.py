"""Per-camera image checks: baselines, the reference view and the persistence rule."""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from monitoring.image.config import ImageCheckConfig
from monitoring.image.findings import (
    PRIORITY,
    STATE_VERSION,
    Baseline,
    Condition,
    Finding,
    ImageCheckResult,
    Mode,
)
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


@dataclass
class _Sample:
    """One classified frame before the persistence rule."""

    mode: Mode
    warm: bool
    values: dict[str, float]
    findings: dict[Condition, Finding]

    @property
    def detected(self) -> Condition:
        return next((c for c in PRIORITY if c in self.findings), Condition.NORMAL)


class CameraImageChecker:
    """Classifies successive frames of one camera; keeps its baselines and persistence state.

    Colour (day) and black-and-white (infrared, night) frames each have their own
    baseline, so a day-learned baseline never judges the night picture. ``state`` and
    ``restore`` carry what was learned from one probe to the next.
    """

    def __init__(self, config: ImageCheckConfig | None = None, name: str = "camera") -> None:
        self.config = config or ImageCheckConfig()
        self.name = name
        self.baselines = {mode: Baseline() for mode in Mode}
        self.mode = Mode.COLOUR
        self.reference: Prepared | None = None
        self._reference_windowed: np.ndarray | None = None
        self._reference_rotation: np.ndarray | None = None
        self._history: deque[np.ndarray] = deque(maxlen=self.config.frozen_window)
        self._streaks = dict.fromkeys(PRIORITY, 0)
        self._probe_streaks = dict.fromkeys(PRIORITY, 0)
        # The view estimate (shift, match, rotation) is reused by samples that look like
        # the one it was made on, for at most moved_every samples (see _view).
        self._view_of: Prepared | None = None  # the sample the estimate was last asked for
        self._view_cache: tuple[float, float] | None = None
        self._view_small: np.ndarray | None = None  # the picture the estimate was made on
        self._turn: float | None = None
        self._view_age = 0  # samples since the estimate was made
        self._fresh = False  # whether the sample _view_of got a new estimate

    @property
    def baseline(self) -> Baseline:
        """The baseline of the mode of the latest sample."""
        return self.baselines[self.mode]

    def set_reference(self, frame: np.ndarray) -> None:
        """Save a frame as the enrolled view the moved check compares with."""
        prepared = prepare(frame, self.config)
        self.reference = prepared
        self._reference_windowed = windowed(prepared.small)
        self._reference_rotation = rotation_signature(
            prepared.small, self.config.moved_rotation_angles
        )
        self._view_cache = self._turn = None

    def enrol(self, frames: Iterable[np.ndarray]) -> None:
        """Save the first frame as the reference view and learn the baseline from all of them."""
        for i, frame in enumerate(frames):
            prepared = prepare(frame, self.config)
            match = None
            if i == 0:
                self.set_reference(frame)
            else:  # the reference against itself would teach a perfect match
                match = view_shift(self._reference_windowed, windowed(prepared.small))[2]
            self.baselines[self._mode(prepared)].update(
                measure(prepared, self.config), self.config, match
            )
        if self.reference is None:
            raise ValueError("enrolment needs at least one frame")

    # --- state between probes ---------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What was learned, JSON-ready: the baselines per mode and the probe streaks."""
        return {
            "version": STATE_VERSION,
            "mode": self.mode.value,
            "baselines": {
                mode.value: b.to_dict()
                for mode, b in self.baselines.items()
                if b.samples or b.view_samples
            },
            "streaks": {c.value: n for c, n in self._probe_streaks.items() if n},
        }

    def restore(self, data: dict[str, Any] | None) -> bool:
        """Take up a saved state; False (and a fresh start) when it is missing or unusable."""
        if not data or data.get("version") != STATE_VERSION:
            return False
        try:
            baselines = {mode: Baseline() for mode in Mode}
            for key, saved in (data.get("baselines") or {}).items():
                baselines[Mode(key)] = Baseline.from_dict(saved, self.config)
            streaks = dict.fromkeys(PRIORITY, 0)
            for key, n in (data.get("streaks") or {}).items():
                streaks[Condition(key)] = int(n)
            mode = Mode(data.get("mode", Mode.COLOUR.value))
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("%s: saved image state not usable (%s); starting afresh", self.name, exc)
            return False
        self.baselines, self._probe_streaks, self.mode = baselines, streaks, mode
        return True

    # --- classification ---------------------------------------------------------------------

    def _mode(self, prepared: Prepared) -> Mode:
        return Mode.MONO if prepared.chroma <= self.config.mono_max_chroma else Mode.COLOUR

    def _sample(self, frame: np.ndarray) -> _Sample:
        """Measure one frame against the baseline of its mode; learn it when normal."""
        cfg = self.config
        prepared = prepare(frame, cfg)
        m = measure(prepared, cfg)
        self.mode = mode = self._mode(prepared)
        b = self.baselines[mode]
        values: dict[str, float] = {
            "brightness": round(m.brightness, 2),
            "contrast": round(m.contrast, 2),
            "sharpness": round(m.sharpness, 2),
            "edge_density": round(m.edge_density, 4),
            "chroma": round(prepared.chroma, 2),
        }
        warm = b.warm(cfg)
        findings: dict[Condition, Finding] = {}
        for check in (self._black, self._frozen, self._covered, self._blurred, self._moved):
            found = check(prepared, m, b, warm, values)
            if found is not None:
                findings[found.condition] = found
        self._history.append(prepared.grey)
        if not findings:
            # The usual view match is learned from fresh estimates only.
            match = values.get("view_match") if self._fresh and self._view_of is prepared else None
            b.update(m, cfg, match)
        return _Sample(mode, warm, values, findings)

    def check(self, frame: np.ndarray) -> ImageCheckResult:
        """Classify one sample and apply the persistence rule (K consecutive samples)."""
        cfg = self.config
        sample = self._sample(frame)
        findings, detected = sample.findings, sample.detected
        for c in PRIORITY:
            self._streaks[c] = self._streaks[c] + 1 if c in findings else 0
        raised = next((c for c in PRIORITY if self._streaks[c] >= cfg.persist_samples), None)
        if raised is not None:
            status = raised
            reason = f"{findings[raised].text} for {self._streaks[raised]} samples"
        elif detected is not Condition.NORMAL:
            status = Condition.NORMAL
            reason = (
                f"{detected.value} not raised yet ({self._streaks[detected]}/"
                f"{cfg.persist_samples} samples): {findings[detected].text}"
            )
        else:
            status = Condition.NORMAL
            reason = "all checks within thresholds" + _warming(sample)
        if status is not Condition.NORMAL:
            log.info("%s: %s (%s)", self.name, status.value, reason)
        return ImageCheckResult(
            status=status,
            detected=detected,
            reason=reason,
            measures=sample.values,
            findings={c.value: f.text for c, f in findings.items()},
            streaks={c.value: n for c, n in self._streaks.items() if n},
            evidence=[findings[c].to_dict() for c in PRIORITY if c in findings],
            suspected=detected is not Condition.NORMAL and raised is None,
            needed=cfg.persist_samples,
            mode=sample.mode,
            warm=sample.warm,
        )

    def check_burst(self, frames: Sequence[np.ndarray]) -> ImageCheckResult:
        """Classify one probe's frames; raise a condition seen in K consecutive probes.

        A condition counts for the probe when every frame of the burst shows it (frozen:
        every frame after the first ``frozen_window``, which have nothing to compare with).
        Seen in fewer than ``persist_probes`` consecutive probes it is only suspected.
        """
        cfg = self.config
        if not frames:
            raise ValueError("a probe needs at least one frame")
        self._history.clear()  # frozen is judged within a burst only
        samples = [self._sample(frame) for frame in frames]
        held: list[Condition] = []
        partial: list[str] = []
        for c in PRIORITY:
            pool = samples[cfg.frozen_window :] if c is Condition.FROZEN else samples
            if pool and all(c in s.findings for s in pool):
                held.append(c)
            elif seen := sum(s.detected is c for s in pool):
                partial.append(f"{c.value} in {seen} of {len(pool)} frames")
        for c in PRIORITY:
            self._probe_streaks[c] = self._probe_streaks[c] + 1 if c in held else 0
        k = cfg.persist_probes
        raised = next((c for c in PRIORITY if self._probe_streaks[c] >= k), None)
        detected = held[0] if held else Condition.NORMAL
        last = samples[-1]
        found = {c: last.findings[c] for c in held}
        if raised is not None:
            status = raised
            n = self._probe_streaks[raised]
            reason = found[raised].text + (f" in {n} consecutive probes" if k > 1 else "")
        elif held:
            status = Condition.NORMAL
            reason = (
                f"{detected.value} suspected, not raised yet ({self._probe_streaks[detected]}/"
                f"{k} probes): {found[detected].text}"
            )
        else:
            status = Condition.NORMAL
            reason = "all checks within thresholds" + _warming(last)
            if partial:
                reason += f" ({'; '.join(partial)}: not the whole burst)"
        log.log(logging.INFO if held else logging.DEBUG, "%s: %s (%s)", self.name, status, reason)
        return ImageCheckResult(
            status=status,
            detected=detected,
            reason=reason,
            measures=last.values,
            findings={c.value: f.text for c, f in found.items()},
            streaks={c.value: n for c, n in self._probe_streaks.items() if n},
            evidence=[found[c].to_dict() for c in held],
            suspected=bool(held) and raised is None,
            needed=k,
            mode=last.mode,
            warm=last.warm,
        )

    def _familiar(self, p: Prepared, m: Measures, b: Baseline, *, switching_only: bool) -> bool:
        """Whether a sample whose mode has no baseline yet is the camera's usual scene.

        The first night in infrared has no night baseline, and a dim, flat, soft picture
        fails the absolute limits for covered and blurred; were it never learned, the
        night baseline would never grow. While the other mode's baseline is warm (the
        camera is known, it only switched), a sample that still shows the enrolled view
        in its place and upright (or any sample, without a reference view) is the new
        mode's normal. Covered is also excused for a new camera that shows its view.
        """
        switching = any(o is not b and o.warm(self.config) for o in self.baselines.values())
        if self._reference_windowed is None:
            return switching
        if switching_only and not switching:
            return False
        return self._moved(p, m, b, False, {}) is None

    def _view(self, p: Prepared) -> tuple[float, float]:
        """Shift (fraction of the width) and match of the view against the reference.

        Estimated on this sample, or taken from the latest estimate when that is fewer than
        ``moved_every`` samples old and made on a picture that differs from this one by at
        most ``moved_reuse_max_diff`` grey levels (a turn or a shift of the camera, or a
        change of light, always makes a new estimate)."""
        if self._view_of is not p:
            self._view_of = p
            self._view_age += 1
            cfg = self.config
            self._fresh = (
                self._view_cache is None
                or self._view_age >= cfg.moved_every
                or frame_difference(p.small, self._view_small) > cfg.moved_reuse_max_diff
            )
            if self._fresh:
                self._view_small = p.small
                dx, dy, response = view_shift(self._reference_windowed, windowed(p.small))
                width = p.small.shape[1]
                shift = math.hypot(dx, dy) / width if math.isfinite(dx) else float("inf")
                self._view_cache, self._turn, self._view_age = (shift, response), None, 0
        return self._view_cache  # type: ignore[return-value]

    def _rotation(self, p: Prepared) -> float:
        """The view's rotation against the reference, estimated with the shift."""
        self._view(p)
        if self._turn is None:
            self._turn, _ = view_rotation(
                self._reference_rotation,
                rotation_signature(p.small, self.config.moved_rotation_angles),
            )
        return self._turn

    # Each check returns a Finding when it holds, and records what it measured.

    def _black(
        self, p: Prepared, m: Measures, b: Baseline, warm: bool, v: dict[str, float]
    ) -> Finding | None:
        cfg = self.config
        limit, basis = cfg.black_max_mean, "absolute"
        if warm and cfg.black_relative_mean * b.brightness > limit:
            limit, basis = cfg.black_relative_mean * b.brightness, "baseline"
        if m.contrast <= cfg.black_max_std and m.brightness <= limit:
            return Finding(
                Condition.BLACK,
                f"brightness {m.brightness:.1f} <= {limit:.1f} and contrast "
                f"{m.contrast:.1f} <= {cfg.black_max_std:.1f}",
                values={"brightness": round(m.brightness, 2), "contrast": round(m.contrast, 2)},
                limits={"brightness": round(limit, 2), "contrast": cfg.black_max_std},
                basis=basis,
            )
        return None

    def _frozen(
        self, p: Prepared, m: Measures, b: Baseline, warm: bool, v: dict[str, float]
    ) -> Finding | None:
        cfg = self.config
        if len(self._history) < cfg.frozen_window:
            return None
        diff = max(frame_difference(p.grey, old) for old in self._history)
        v["frame_difference"] = round(diff, 3)
        if diff <= cfg.frozen_max_diff:
            return Finding(
                Condition.FROZEN,
                f"difference to each of the last {cfg.frozen_window} samples {diff:.3f} "
                f"<= {cfg.frozen_max_diff}",
                values={"frame_difference": round(diff, 3)},
                limits={"frame_difference": cfg.frozen_max_diff, "window": cfg.frozen_window},
            )
        return None

    def _covered(
        self, p: Prepared, m: Measures, b: Baseline, warm: bool, v: dict[str, float]
    ) -> Finding | None:
        cfg = self.config
        limit: float | np.ndarray = cfg.covered_cell_std
        if warm and b.cell_std is not None and b.cell_std.shape == m.cell_std.shape:
            limit = np.minimum(cfg.covered_cell_std, cfg.covered_cell_ratio * b.cell_std)
        flat = float(np.mean(m.cell_std < limit))
        v["textureless_fraction"] = round(flat, 3)
        if flat < cfg.covered_min_fraction:
            return None
        if not warm and self._familiar(p, m, b, switching_only=False):
            return None
        why = f"textureless cells {flat:.0%} >= {cfg.covered_min_fraction:.0%}"
        values = {"textureless_fraction": round(flat, 3)}
        limits = {"textureless_fraction": cfg.covered_min_fraction}
        if warm:
            edge_limit = cfg.covered_edge_ratio * b.edge_density
            if m.edge_density > edge_limit:
                return None
            why += f", edge density {m.edge_density:.4f} <= {edge_limit:.4f}"
            values["edge_density"] = round(m.edge_density, 4)
            limits["edge_density"] = round(edge_limit, 4)
            limits["edge_ratio"] = cfg.covered_edge_ratio
        return Finding(
            Condition.COVERED, why, values, limits, basis="baseline" if warm else "absolute"
        )

    def _blurred(
        self, p: Prepared, m: Measures, b: Baseline, warm: bool, v: dict[str, float]
    ) -> Finding | None:
        cfg = self.config
        limits: dict[str, float] = {}
        if not warm and self._familiar(p, m, b, switching_only=True):
            return None
        if warm:
            limit = cfg.blur_relative * b.sharpness
            basis = f"{cfg.blur_relative} x baseline {b.sharpness:.1f}"
            limits = {"ratio": cfg.blur_relative, "baseline_sharpness": round(b.sharpness, 2)}
        else:
            limit, basis = cfg.blur_absolute, "absolute floor"
        if m.sharpness < limit:
            return Finding(
                Condition.BLURRED,
                f"sharpness {m.sharpness:.1f} < {limit:.1f} ({basis})",
                values={"sharpness": round(m.sharpness, 2)},
                limits={"sharpness": round(limit, 2), **limits},
                basis="baseline" if warm else "absolute",
            )
        return None

    def _moved(
        self, p: Prepared, m: Measures, b: Baseline, warm: bool, v: dict[str, float]
    ) -> Finding | None:
        cfg = self.config
        if self._reference_windowed is None:
            return None
        shift, response = self._view(p)
        v["view_shift"] = round(shift, 4)
        v["view_match"] = round(response, 3)
        if shift > cfg.moved_max_shift:
            return Finding(
                Condition.MOVED,
                f"view shifted {shift:.1%} of the width > {cfg.moved_max_shift:.1%}",
                values={"view_shift": round(shift, 4) if math.isfinite(shift) else 1.0},
                limits={"view_shift": cfg.moved_max_shift},
                aspect="shift",
            )
        if self._reference_rotation is not None:
            turn = self._rotation(p)
            v["view_rotation"] = round(turn, 2)
            if abs(turn) > cfg.moved_max_rotation:
                return Finding(
                    Condition.MOVED,
                    f"view rotated {turn:+.1f}° > ±{cfg.moved_max_rotation:.1f}°",
                    values={"view_rotation": round(turn, 2)},
                    limits={"view_rotation": cfg.moved_max_rotation},
                    aspect="rotation",
                )
        limit, basis, kind = cfg.moved_min_response, "absolute floor", "absolute"
        usual = b.view_match
        if warm and usual is not None and cfg.moved_response_ratio * usual > limit:
            limit = cfg.moved_response_ratio * usual
            basis, kind = f"{cfg.moved_response_ratio} x usual {usual:.3f}", "baseline"
        if response < limit:
            return Finding(
                Condition.MOVED,
                f"view match {response:.3f} < {limit:.3f} ({basis}): reference view lost",
                values={"view_match": round(response, 3)},
                limits={"view_match": round(limit, 3)},
                basis=kind,
                aspect="match",
            )
        return None


def _warming(sample: _Sample) -> str:
    if sample.warm:
        return ""
    night = " for the black-and-white view" if sample.mode is Mode.MONO else ""
    return f" (baseline warming up{night})"
