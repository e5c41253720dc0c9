"""The camera page explains the picture verdict in the user's language, from its findings."""

from __future__ import annotations

import html
import re

import numpy as np

from facility_app.accounts.models import Role
from monitoring import registry
from monitoring.config import MonitoringConfig
from monitoring.service import probe_cameras
from tests import media
from tests.conftest import T0, AuthActions

CFG = MonitoringConfig()  # image.persist_probes 2


def _picture(client, camera_id: int) -> str:  # type: ignore[no-untyped-def]
    page = client.get(f"/cctv/cameras/{camera_id}")
    assert page.status_code == 200
    found = re.search(r'<dd id="picture">(.*?)</dd>', page.get_data(as_text=True), re.S)
    assert found is not None
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


def test_camera_page_shows_the_suspected_then_raised_reason_in_chinese(
    client, world, session, tmp_path
):
    rng = np.random.default_rng(2)
    clip = media.write_clip(
        tmp_path / "yard.avi", (media.black_frame(rng) for _ in range(30)), 10, "MJPG"
    )
    cam = registry.save_camera(session, name="yard", stream_url=str(clip))
    probe_cameras(session, T0, config=CFG)
    session.commit()
    zh = AuthActions(client, language=None)
    zh.login(world.users[Role.DIRECTOR])
    text = _picture(client, cam.id)
    assert "疑似黑屏" in text
    assert "疑似黑屏：已连续 1 次检查发现，连续 2 次才报警。" in text
    assert re.search(r"黑屏: 亮度 \d+\.\d ≤ 16\.0，对比度 \d+\.\d ≤ 6\.0", text), text
    assert "夜间红外黑白画面" in text  # a black picture has no colour
    assert "仍在学习本摄像头的正常画面" in text
    assert "suspected" not in text and "brightness" not in text

    probe_cameras(session, T0, config=CFG)
    session.commit()
    text = _picture(client, cam.id)
    assert "黑屏：连续 2 次检查均发现。" in text and "疑似" not in text


def test_camera_page_in_english_and_a_normal_picture(client, auth, world, session, tmp_path):
    clip = media.normal_clip(tmp_path / "room.avi", 30, fps=10, fourcc="MJPG")
    cam = registry.save_camera(session, name="room", stream_url=str(clip))
    probe_cameras(session, T0, config=CFG)
    session.commit()
    auth.login(world.users[Role.DIRECTOR])
    text = _picture(client, cam.id)
    assert "Picture normal" in text and "Every picture check is within its limits." in text
    assert "still being learned" in text  # 3 samples, 5 needed for the camera's own limits
