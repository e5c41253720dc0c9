"""Image checks across probes: saved state, K consecutive probes, day and night baselines."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from monitoring.image import CameraImageChecker, Condition, ImageCheckConfig, Mode
from tests import media

# As the service runs them: frozen only for bit-identical frames of one burst.
CFG = ImageCheckConfig(frozen_window=1, frozen_max_diff=0.0)  # persist_probes 2


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def scene() -> np.ndarray:
    return media.room_scene()


def night_ir(scene: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same room at night in infrared: grey, dim (mean about 25), flat (std about 4),
    lit in the centre by the camera's lamp and smoothed by its noise reduction."""
    h, w = scene.shape[:2]
    grey = cv2.cvtColor(scene, cv2.COLOR_BGR2GRAY).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    lamp = np.clip(1.0 - 0.4 * (((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2),
                   0.3, 1.0)  # fmt: skip
    img = cv2.GaussianBlur(grey * 0.12 * lamp + 14, (0, 0), 1.2)
    img = (img + rng.normal(0, 1.0, img.shape)).clip(0, 255).astype(np.uint8)
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)


def day(scene: np.ndarray, rng: np.random.Generator, t: int = 0) -> list[np.ndarray]:
    """One probe's three kept frames of the normal colour view."""
    return [media.normal_frame(scene, t + i, rng) for i in range(3)]


def reloaded(checker: CameraImageChecker, reference: np.ndarray | None) -> CameraImageChecker:
    """A new checker from the JSON state, as the next probe builds it."""
    again = CameraImageChecker(checker.config, name=checker.name)
    assert again.restore(json.loads(json.dumps(checker.state())))
    if reference is not None:
        again.set_reference(reference)
    return again


def test_state_round_trips_through_json(scene, rng):
    reference = media.normal_frame(scene, 0, rng)
    checker = CameraImageChecker(CFG, name="room")
    checker.enrol([reference])
    for p in range(3):
        checker.check_burst(day(scene, rng, 3 * p))
    checker.check_burst([media.black_frame(rng) for _ in range(3)])
    state = checker.state()
    # 1 reference + 9 normal samples in colour; nothing in black and white; black seen once.
    assert state["baselines"]["colour"]["samples"] == 10
    assert "mono" not in state["baselines"]
    # A black frame is also textureless, unsharp and unlike the view: each has its streak.
    assert state["streaks"] == {"black": 1, "covered": 1, "blurred": 1, "moved": 1}
    again = reloaded(checker, reference)
    a, b = checker.baselines[Mode.COLOUR], again.baselines[Mode.COLOUR]
    # The usual view match is learned from fresh view estimates only: of the 9 normal
    # samples, the 1st, 4th and 7th (moved_every=3; the others look like them).
    assert b.samples == 10 and b.view_samples == a.view_samples == 3
    assert b.brightness == pytest.approx(a.brightness, abs=1e-3)
    assert b.cell_std.shape == (6, 8)
    np.testing.assert_allclose(b.cell_std, a.cell_std, atol=1e-3)
    # The restored streak continues: the second black probe raises.
    frames = [media.black_frame(rng) for _ in range(3)]
    result = again.check_burst(frames)
    assert result.status is Condition.BLACK and result.streaks["black"] == 2
    assert "in 2 consecutive probes" in result.reason
    assert len(json.dumps(again.state())) < 2000  # small enough for a row per camera


def test_one_dark_probe_is_suspected_k_probes_raise_and_recovery_clears(scene, rng):
    reference = media.normal_frame(scene, 0, rng)
    checker = CameraImageChecker(CFG, name="room")
    checker.enrol([reference])
    checker.check_burst(day(scene, rng))
    first = checker.check_burst([media.black_frame(rng) for _ in range(3)])
    assert (first.status, first.detected, first.suspected) == (
        Condition.NORMAL, Condition.BLACK, True)  # fmt: skip
    assert "black suspected, not raised yet (1/2 probes)" in first.reason
    assert first.evidence[0]["code"] == "black"
    assert first.evidence[0]["limits"] == {"brightness": 16.0, "contrast": 6.0}
    checker = reloaded(checker, reference)
    second = checker.check_burst([media.black_frame(rng) for _ in range(3)])
    assert (second.status, second.suspected, second.needed) == (Condition.BLACK, False, 2)
    checker = reloaded(checker, reference)
    back = checker.check_burst(day(scene, rng, 5))
    assert (back.status, back.detected, back.streaks) == (Condition.NORMAL, Condition.NORMAL, {})


def test_one_off_covered_probes_between_normal_ones_never_raise(scene, rng):
    reference = media.normal_frame(scene, 0, rng)
    checker = CameraImageChecker(CFG, name="room")
    checker.enrol([reference])
    statuses = []
    for p in range(6):
        frames = (
            [media.covered_frame(scene, rng) for _ in range(3)] if p % 2 else day(scene, rng, p)
        )
        checker = reloaded(checker, reference)
        result = checker.check_burst(frames)
        statuses.append((result.status, result.detected))
    assert (
        statuses
        == [(Condition.NORMAL, Condition.NORMAL), (Condition.NORMAL, Condition.COVERED)] * 3
    )


def test_a_condition_in_part_of_the_burst_does_not_count(scene, rng):
    checker = CameraImageChecker(CFG, name="room")
    checker.enrol([media.normal_frame(scene, 0, rng)])
    frames = [media.black_frame(rng), *day(scene, rng)[:2]]  # a child's hand in one frame
    result = checker.check_burst(frames)
    assert (result.detected, result.streaks) == (Condition.NORMAL, {})
    assert "black in 1 of 3 frames: not the whole burst" in result.reason


def test_frozen_burst_is_bit_identical_frames(scene, rng):
    checker = CameraImageChecker(CFG, name="room")
    frame = media.normal_frame(scene, 0, rng)
    result = checker.check_burst([frame.copy() for _ in range(3)])
    assert (result.detected, result.evidence[0]["values"]) == (
        Condition.FROZEN, {"frame_difference": 0.0})  # fmt: skip
    # Two probes in a row of the same (live, different) frames are not frozen between them.
    assert checker.check_burst(day(scene, rng)).detected is Condition.NORMAL


@pytest.mark.parametrize("with_reference", [True, False])
def test_daylight_baseline_does_not_judge_the_infrared_night_view(scene, rng, with_reference):
    reference = media.normal_frame(scene, 0, rng)
    checker = CameraImageChecker(CFG, name="sleep-room")
    if with_reference:
        checker.enrol([reference])
    for p in range(4):
        checker = reloaded(checker, reference if with_reference else None)
        assert checker.check_burst(day(scene, rng, 3 * p)).mode is Mode.COLOUR
    assert checker.baselines[Mode.COLOUR].warm(CFG)
    night = []
    for _ in range(3):
        checker = reloaded(checker, reference if with_reference else None)
        night.append(checker.check_burst([night_ir(scene, rng) for _ in range(3)]))
    assert [(r.status, r.detected, r.mode) for r in night] == [
        (Condition.NORMAL, Condition.NORMAL, Mode.MONO)] * 3  # fmt: skip
    assert night[0].measures["brightness"] < 30 and night[0].measures["contrast"] < 6
    assert not night[0].warm and night[-1].warm  # the night baseline learned from 6 samples
    assert checker.baselines[Mode.MONO].samples == 9
    assert checker.baselines[Mode.COLOUR].samples == 12 + with_reference
    # No signal at night is still black; the morning's colour view is judged by day again.
    black = checker.check_burst([media.black_frame(rng) for _ in range(3)])
    assert black.detected is Condition.BLACK
    morning = checker.check_burst(day(scene, rng))
    assert (morning.detected, morning.mode, morning.warm) == (Condition.NORMAL, Mode.COLOUR, True)


def test_one_baseline_for_day_and_night_would_alarm(scene, rng):
    """The control for the test above: the same night frames judged by the day baseline."""
    checker = CameraImageChecker(CFG, name="sleep-room")
    checker.enrol([media.normal_frame(scene, 0, rng)])
    for p in range(4):
        checker.check_burst(day(scene, rng, 3 * p))
    checker.baselines[Mode.MONO] = checker.baselines[Mode.COLOUR]
    result = checker.check_burst([night_ir(scene, rng) for _ in range(3)])
    assert result.detected is Condition.BLACK
    assert {"black", "covered"} <= set(result.findings)


def test_a_covered_lens_is_found_before_the_night_baseline_is_learned(scene, rng):
    checker = CameraImageChecker(CFG, name="sleep-room")
    checker.enrol([media.normal_frame(scene, 0, rng)])
    flat = cv2.cvtColor(np.full((360, 640), 60, np.uint8), cv2.COLOR_GRAY2BGR)
    result = checker.check_burst([media.noisy(flat, 1.0, rng) for _ in range(3)])
    assert (result.mode, result.warm) == (Mode.MONO, False)
    assert "covered" in result.findings  # the enrolled view is gone, so the guard is off


def test_unusable_saved_state_starts_afresh():
    checker = CameraImageChecker(CFG)
    assert not checker.restore(None)
    assert not checker.restore({"version": 99})
    bad_grid = {"version": 1, "baselines": {"colour": {
        "samples": 9, "brightness": 1, "sharpness": 1, "edge_density": 0,
        "cell_std": [[1.0] * 4] * 3}}}  # fmt: skip
    assert not checker.restore(bad_grid)
    assert not checker.restore({"version": 1, "streaks": {"smoke": 2}})
    assert checker.baselines[Mode.COLOUR].samples == 0


def test_grey_frames_are_black_and_white_and_colour_frames_are_colour(scene, rng):
    checker = CameraImageChecker(CFG)
    assert checker.check(media.normal_frame(scene, 0, rng)).mode is Mode.COLOUR
    assert checker.check(night_ir(scene, rng)[:, :, 0]).mode is Mode.MONO
    result = checker.check(media.dark_ir_frame(scene, 0, rng))  # colour noise on grey
    assert result.mode is Mode.MONO and result.measures["chroma"] <= CFG.mono_max_chroma
