"""Image checks on generated, labelled frames: exact classifications and the persistence rule."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from monitoring.image import CameraImageChecker, Condition, ImageCheckConfig
from tests import media


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def scene() -> np.ndarray:
    return media.room_scene()


def enrolled(scene: np.ndarray, rng: np.random.Generator, k: int = 3) -> CameraImageChecker:
    checker = CameraImageChecker(ImageCheckConfig(persist_samples=k), name="room-1")
    checker.enrol(media.normal_frame(scene, t, rng) for t in range(6))
    return checker


def test_normal_scene_with_motion_and_noise_stays_normal(scene, rng):
    checker = enrolled(scene, rng)
    for t in range(12):
        result = checker.check(media.normal_frame(scene, t, rng))
        assert result.detected is Condition.NORMAL, result.findings
        assert result.status is Condition.NORMAL


@pytest.mark.parametrize(
    ("label", "make"),
    [
        (Condition.BLACK, lambda s, r: media.black_frame(r)),
        (Condition.COVERED, lambda s, r: media.covered_frame(s, r)),
        (Condition.BLURRED, lambda s, r: media.blurred_frame(s, 2, r)),
        (Condition.MOVED, lambda s, r: media.moved_frame(s, r, dx=0.12)),
        (Condition.MOVED, lambda s, r: media.moved_frame(s, r, dy=-0.1)),
        (Condition.MOVED, lambda s, r: media.moved_frame(s, r, angle=12)),
    ],
)
def test_each_condition_is_classified_and_raised_after_k_samples(scene, rng, label, make):
    checker = enrolled(scene, rng, k=3)
    results = [checker.check(make(scene, rng)) for _ in range(3)]
    assert [r.detected for r in results] == [label] * 3
    assert [r.status for r in results] == [Condition.NORMAL, Condition.NORMAL, label]
    assert label.value in results[-1].findings
    assert "for 3 samples" in results[-1].reason


def test_frozen_stream_is_raised_after_the_window_and_k(scene, rng):
    checker = enrolled(scene, rng, k=2)
    frame = media.normal_frame(scene, 4, rng)
    detected = [checker.check(frame.copy()).detected for _ in range(4)]
    # The first sample has no history, the second only one of the two previous samples.
    assert detected == [Condition.NORMAL, Condition.NORMAL, Condition.FROZEN, Condition.FROZEN]
    result = checker.check(frame.copy())
    assert result.status is Condition.FROZEN
    assert result.measures["frame_difference"] == 0.0


def test_small_shift_within_tolerance_is_not_moved(scene, rng):
    checker = enrolled(scene, rng)
    result = checker.check(media.moved_frame(scene, rng, dx=0.01))
    assert result.detected is Condition.NORMAL
    assert result.measures["view_shift"] < checker.config.moved_max_shift


def test_blurred_for_two_samples_then_normal_raises_nothing(scene, rng):
    checker = enrolled(scene, rng, k=3)
    statuses = [
        checker.check(media.blurred_frame(scene, 1, rng)).status,
        checker.check(media.blurred_frame(scene, 2, rng)).status,
        checker.check(media.normal_frame(scene, 3, rng)).status,
        checker.check(media.blurred_frame(scene, 4, rng)).status,
    ]
    assert statuses == [Condition.NORMAL] * 4
    assert checker.check(media.blurred_frame(scene, 5, rng)).streaks == {"blurred": 2}


def test_pending_condition_reports_why_it_is_not_raised_yet(scene, rng):
    checker = enrolled(scene, rng, k=3)
    result = checker.check(media.blurred_frame(scene, 1, rng))
    assert result.status is Condition.NORMAL and result.detected is Condition.BLURRED
    assert "not raised yet (1/3 samples)" in result.reason
    assert "baseline" in result.findings["blurred"]  # measured value against a baseline


def test_condition_clears_when_the_picture_recovers(scene, rng):
    checker = enrolled(scene, rng, k=2)
    for _ in range(2):
        result = checker.check(media.black_frame(rng))
    assert result.status is Condition.BLACK
    assert checker.check(media.normal_frame(scene, 1, rng)).status is Condition.NORMAL


def test_dark_infrared_room_with_its_own_baseline_is_normal(scene, rng):
    checker = CameraImageChecker(ImageCheckConfig(persist_samples=1), name="sleep-room")
    checker.enrol(media.dark_ir_frame(scene, t, rng) for t in range(6))
    for t in range(10):
        result = checker.check(media.dark_ir_frame(scene, t, rng))
        assert result.status is Condition.NORMAL, result.findings
    assert result.measures["brightness"] < 40  # dark, yet no alarm


def test_dark_infrared_room_still_detects_black_and_covered(scene, rng):
    checker = CameraImageChecker(ImageCheckConfig(persist_samples=1), name="sleep-room")
    checker.enrol(media.dark_ir_frame(scene, t, rng) for t in range(6))
    assert checker.check(media.black_frame(rng)).status is Condition.BLACK
    checker = CameraImageChecker(ImageCheckConfig(persist_samples=1), name="sleep-room")
    checker.enrol(media.dark_ir_frame(scene, t, rng) for t in range(6))
    assert checker.check(media.covered_frame(scene, rng)).status is Condition.COVERED


def test_quiet_empty_room_at_night_is_not_frozen(scene, rng):
    """A still scene differs by sensor noise alone; that is enough to prove it is live."""
    checker = CameraImageChecker(ImageCheckConfig(persist_samples=1), name="hall")
    checker.enrol([media.dark_ir_frame(scene, 0, rng)])
    for _ in range(5):
        assert checker.check(media.dark_ir_frame(scene, 0, rng)).status is Condition.NORMAL


def test_without_enrolment_moved_is_not_checked_and_baseline_warms_up(scene, rng):
    checker = CameraImageChecker(ImageCheckConfig())
    result = checker.check(media.normal_frame(scene, 0, rng))
    assert result.status is Condition.NORMAL
    assert "view_shift" not in result.measures
    assert "warming up" in result.reason


def test_grey_frames_are_accepted(scene, rng):
    checker = CameraImageChecker()
    grey = media.dark_ir_frame(scene, 0, rng)[:, :, 0]
    assert checker.check(grey).detected is Condition.NORMAL


def test_result_is_json_ready(scene, rng):
    result = enrolled(scene, rng).check(media.black_frame(rng))
    data = result.to_dict()
    assert data["detected"] == "black" and data["status"] == "normal"
    assert isinstance(data["measures"]["brightness"], float)


def test_config_rejects_unknown_fields_and_bad_values():
    with pytest.raises(ValidationError):
        ImageCheckConfig(blurr_relative=0.2)
    with pytest.raises(ValidationError):
        ImageCheckConfig(persist_samples=0)


def test_empty_frame_and_enrolment_are_rejected():
    checker = CameraImageChecker()
    with pytest.raises(ValueError):
        checker.check(np.zeros((0, 0, 3), np.uint8))
    with pytest.raises(ValueError):
        checker.enrol([])


@pytest.mark.parametrize("angle", [3, 5, 7, 10, -4])
def test_small_rotation_about_the_centre_is_moved(scene, rng, angle):
    checker = enrolled(scene, rng, k=3)
    results = [checker.check(media.moved_frame(scene, rng, angle=angle)) for _ in range(3)]
    assert [r.detected for r in results] == [Condition.MOVED] * 3
    assert results[-1].status is Condition.MOVED
    turn = results[-1].measures["view_rotation"]
    # The estimate is within a degree and a half of the true angle, and its sign is stable.
    assert abs(abs(turn) - abs(angle)) <= 1.5
    assert "view rotated" in results[-1].findings["moved"]


@pytest.mark.parametrize(
    "make",
    [
        lambda s, r: (media.normal_frame(s, 2, r) * 0.55).astype(np.uint8),  # dimmer
        lambda s, r: np.clip(media.normal_frame(s, 2, r) * 1.3 + 20, 0, 255).astype(np.uint8),
        lambda s, r: media.noisy(media.normal_frame(s, 2, r), 10, r),  # noisier sensor
        lambda s, r: media.moved_frame(s, r, dx=0.01),  # a pixel or two of vibration
    ],
)
def test_lighting_noise_and_vibration_are_not_rotation(scene, rng, make):
    checker = enrolled(scene, rng)
    for _ in range(3):
        result = checker.check(make(scene, rng))
        assert abs(result.measures["view_rotation"]) < 0.5
        assert "moved" not in result.findings


def test_the_view_estimate_is_reused_only_for_a_picture_like_the_estimated_one(scene, rng):
    cfg = ImageCheckConfig(persist_samples=3, moved_every=3)
    checker = CameraImageChecker(cfg, name="room-1")
    checker.enrol(media.normal_frame(scene, t, rng) for t in range(6))
    normal = [checker.check(media.normal_frame(scene, t, rng)) for t in range(1, 7)]
    matches = [r.measures["view_match"] for r in normal]
    # Estimated on the 1st and 4th samples (every 3rd); the others take the estimate.
    assert matches[0] == matches[1] == matches[2] and matches[3] == matches[4] == matches[5]
    assert matches[0] != matches[3]
    # A turned camera differs from the estimated picture: estimated at once, no delay.
    turned = [checker.check(media.moved_frame(scene, rng, angle=5)) for _ in range(3)]
    assert all(abs(r.measures["view_rotation"]) > 3.5 for r in turned)
    assert turned[-1].status is Condition.MOVED
    # Without reuse every sample is estimated.
    each = CameraImageChecker(cfg.model_copy(update={"moved_every": 1}))
    each.enrol(media.normal_frame(scene, t, rng) for t in range(6))
    got = [each.check(media.normal_frame(scene, t, rng)).measures["view_match"] for t in (1, 2)]
    assert got[0] != got[1]
