"""Camera health reasons said again in the user's language, part by part."""

from __future__ import annotations

import pytest

from facility_app.web import create_app
from facility_app.web.cctv_reasons import camera_reason


@pytest.fixture(scope="module")
def app():  # type: ignore[no-untyped-def]
    return create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})


def _zh(app, reason: str) -> str:  # type: ignore[no-untyped-def]
    # A request without a chosen language is Chinese, as in the app.
    with app.test_request_context("/"):
        return camera_reason(reason)


def test_retention_reasons_are_translated(app):  # type: ignore[no-untyped-def]
    from facility_app.web.cctv_reasons import reasons_text

    reasons = [
        "entrance: not recording: the newest segment ended 5400 s ago (freshness 900 s)",
        "entrance: unbroken coverage 12.50 days since 2026-02-26T00:00:00Z, under the required 90",
        "forecast warn: the store holds 61.2 days at 45.10 GB/day, under 97 days "
        "(90 required + 7 margin)",
        "2 file(s) or folder(s) could not be used",
    ]
    with app.test_request_context("/"):
        assert reasons_text(reasons) == (
            "entrance：未在录像：最新的录像片段在 5400 秒前结束；"
            "entrance：录像仅连续 12.50 天，不足要求的 90 天；"
            "存储预测：按每天 45.10 GB 计，磁盘只能保存 61.2 天，不足 97 天；"
            "2 个文件或文件夹无法读取"
        )
        assert reasons_text([]) == "—"


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("stream failed: no answer within the open timeout (5 s)", "视频流失败：5 秒内无应答"),
        ("probe could not run: probe timed out: no result within 20 s",
         "无法检测：20 秒内没有结果"),
        ("frame rate 3.2 fps < 5 fps; resolution 320x240 < 640x360",
         "帧率 3.2 帧/秒，低于 5 帧/秒；分辨率 320x240，低于 640x360"),
        ("25 frames, 1280x720 at 15.0 fps; image normal: all checks within thresholds",
         "25 帧，1280x720，15.0 帧/秒；画面正常"),
        ("25 frames, 1280x720 at 15.0 fps; image black suspected, not raised yet (1/2 probes): "
         "mean brightness 0.2 <= 16.0; contrast 0.4 <= 6.0",
         "25 帧，1280x720，15.0 帧/秒；疑似：黑屏"),
        ("image covered: edge density 0.001 < 0.02", "镜头被遮挡"),
        ("never probed", "尚未检测"),
        ("something the monitor says one day", "something the monitor says one day"),
        ("", "—"),
    ],
)  # fmt: skip
def test_known_parts_are_translated_and_unknown_ones_kept(app, reason, expected):  # type: ignore[no-untyped-def]
    assert _zh(app, reason) == expected
