"""Generated, labelled camera frames and clips for the monitoring tests and benchmarks."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

W, H = 640, 360


def room_scene(width: int = W, height: int = H, seed: int = 1) -> np.ndarray:
    """A textured indoor scene (walls, furniture, shelves, posters) as a BGR frame."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    base = 120 + 60 * y + 20 * x
    img = np.dstack([base * 0.9, base, base * 1.05]).clip(0, 255).astype(np.uint8)
    # The floor line and a skirting board.
    cv2.rectangle(img, (0, int(height * 0.7)), (width, height), (90, 110, 140), -1)
    for _ in range(25):
        x0, y0 = int(rng.integers(0, width - 20)), int(rng.integers(0, height - 20))
        w, h = int(rng.integers(15, width // 4)), int(rng.integers(15, height // 3))
        colour = tuple(int(c) for c in rng.integers(20, 235, 3))
        cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), colour, -1)
        cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), (20, 20, 20), 1)
    for _ in range(12):
        p = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.circle(
            img, p, int(rng.integers(5, 30)), tuple(int(c) for c in rng.integers(0, 255, 3)), 2
        )
    for i in range(6):
        cv2.putText(
            img,
            f"A{i}B",
            (int(rng.integers(0, width - 60)), int(rng.integers(20, height))),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.6,
            (10, 10, 10),
            1,
        )
    return img


def noisy(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Add Gaussian sensor noise."""
    noise = rng.normal(0, sigma, img.shape).astype(np.float32)
    return (img.astype(np.float32) + noise).clip(0, 255).astype(np.uint8)


def normal_frame(scene: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
    """The scene with a child-sized blob moving across it and sensor noise."""
    img = scene.copy()
    h, w = img.shape[:2]
    cx = int((0.1 + 0.08 * (t % 10)) * w)
    cv2.ellipse(img, (cx, int(h * 0.6)), (w // 30, h // 8), 0, 0, 360, (60, 80, 200), -1)
    return noisy(img, 3.0, rng)


def dark_ir_frame(scene: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
    """A dark infrared-like view: grey, dim, and noisy (a sleeping room at night)."""
    grey = cv2.cvtColor(scene, cv2.COLOR_BGR2GRAY).astype(np.float32) * 0.18 + 4
    img = cv2.cvtColor(grey.clip(0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    return noisy(img, 5.0, rng)


def black_frame(rng: np.random.Generator, width: int = W, height: int = H) -> np.ndarray:
    """No signal: black with faint noise."""
    return noisy(np.zeros((height, width, 3), np.uint8), 1.0, rng)


def covered_frame(scene: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A hand-like skin-coloured blob, softly shaded, over about 90 % of the view."""
    img = normal_frame(scene, 0, rng)
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, h // 2), (int(w * 0.62), int(h * 0.62)), 10, 0, 360, 255, -1)
    y = np.linspace(0.85, 1.0, h, dtype=np.float32)[:, None, None]
    skin = (np.array([120, 150, 200], np.float32)[None, None, :] * y).repeat(w, axis=1)
    skin = noisy(skin.astype(np.uint8), 1.5, rng)
    img[mask > 0] = skin[mask > 0]
    return img


def blurred_frame(scene: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
    """The normal view out of focus."""
    img = cv2.GaussianBlur(normal_frame(scene, t, rng), (0, 0), 6)
    return noisy(img, 1.0, rng)


def moved_frame(
    scene: np.ndarray,
    rng: np.random.Generator,
    dx: float = 0.0,
    dy: float = 0.0,
    angle: float = 0.0,
) -> np.ndarray:
    """The view shifted by (dx, dy) fractions of its size and rotated by angle degrees."""
    h, w = scene.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[0, 2] += dx * w
    m[1, 2] += dy * h
    img = cv2.warpAffine(scene, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    return normal_frame(img, 3, rng)


def write_clip(path: Path, frames: Iterable[np.ndarray], fps: float, fourcc: str = "mp4v") -> Path:
    """Write frames to a video file (mp4v in .mp4 or MJPG in .avi)."""
    writer = None
    try:
        for frame in frames:
            if writer is None:
                h, w = frame.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
                if not writer.isOpened():
                    raise RuntimeError(f"cannot write {path} with {fourcc}")
            writer.write(frame)
    finally:
        if writer is not None:
            writer.release()
    return path


def normal_clip(
    path: Path,
    n: int,
    width: int = W,
    height: int = H,
    fps: float = 10.0,
    fourcc: str = "mp4v",
    seed: int = 1,
) -> Path:
    """A clip of a normal scene with motion and noise."""
    rng = np.random.default_rng(seed)
    scene = room_scene(width, height, seed)
    return write_clip(path, (normal_frame(scene, t, rng) for t in range(n)), fps, fourcc)


class MjpegServer:
    """A tiny HTTP MJPEG camera (multipart/x-mixed-replace) on 127.0.0.1, paced at fps."""

    def __init__(self, frames: list[np.ndarray], fps: float) -> None:
        import http.server
        import threading

        jpegs = [cv2.imencode(".jpg", f)[1].tobytes() for f in frames]
        stop = threading.Event()
        self._stop = stop

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the http.server API names it so
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                i = 0
                try:
                    while not stop.is_set():
                        data = jpegs[i % len(jpegs)]
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n")
                        self.wfile.write(f"Content-Length: {len(data)}\r\n\r\n".encode())
                        self.wfile.write(data + b"\r\n")
                        i += 1
                        stop.wait(1.0 / fps)
                except OSError:
                    pass  # the client went away

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving."""
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)
