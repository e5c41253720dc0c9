"""Cheap measurements on one downscaled grey frame."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np

from monitoring.image.config import ImageCheckConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A frame reduced to what the checks need: small grey images."""

    grey: np.ndarray  # uint8, analysis_width wide
    small: np.ndarray  # float32, moved_width wide, for phase correlation
    chroma: float = 0.0  # mean |green - grey| (0-255): near zero for a black-and-white picture


@dataclass(frozen=True)
class Measures:
    """Values measured on one frame; the checks compare them with thresholds."""

    brightness: float
    contrast: float
    sharpness: float
    edge_density: float
    cell_std: np.ndarray  # per cell grey standard deviation


def prepare(frame: np.ndarray, config: ImageCheckConfig) -> Prepared:
    """Downscale a BGR (or grey) frame and convert it to grey."""
    if frame is None or frame.size == 0:
        raise ValueError("empty frame")
    h, w = frame.shape[:2]
    width = min(config.analysis_width, w)
    height = max(1, round(h * width / w))
    # Nearest-neighbour decimation before the colour conversion: area averaging of a 720p
    # frame alone costs about as much as decoding it. Decimation keeps sensor noise (it is
    # not averaged away), which the per-camera baselines absorb.
    small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_NEAREST)
    grey = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    chroma = 0.0 if small.ndim == 2 else _chroma(small, grey)
    mw = min(config.moved_width, width)
    mh = max(1, round(height * mw / width))
    src = grey
    if width > 2 * mw:
        # Area averaging at a ratio that is not a whole number is OpenCV's slow path (about
        # as long as all the other measures together); a bilinear step to twice the size,
        # then an exact 2 x 2 average, gives nearly the same picture (within a grey level).
        src = cv2.resize(grey, (2 * mw, 2 * mh), interpolation=cv2.INTER_LINEAR)
    tiny = cv2.resize(src, (mw, mh), interpolation=cv2.INTER_AREA).astype(np.float32)
    return Prepared(grey=grey, small=tiny, chroma=chroma)


def _chroma(small: np.ndarray, grey: np.ndarray) -> float:
    """How far the picture is from black and white: mean |green - grey| on every 4th pixel.

    An infrared night view is sent as grey (all channels equal, or within compression
    noise); a colour view differs by several grey levels. A sparse sample is enough for a
    mean and costs microseconds.
    """
    g = np.ascontiguousarray(small[::4, ::4, 1])
    y = np.ascontiguousarray(grey[::4, ::4])
    return float(cv2.norm(g, y, cv2.NORM_L1)) / max(y.size, 1)


def measure(prepared: Prepared, config: ImageCheckConfig) -> Measures:
    """Brightness, contrast, sharpness and texture of a prepared frame."""
    grey = prepared.grey
    h, w = grey.shape[:2]
    n = float(h * w)
    lap = cv2.Laplacian(grey, cv2.CV_16S, ksize=1)
    # Variance from the sum and the sum of squares: exact, and a tenth of meanStdDev's
    # time on 16-bit data.
    lap_mean = cv2.sumElems(lap)[0] / n
    sharpness = max(cv2.norm(lap, cv2.NORM_L2SQR) / n - lap_mean * lap_mean, 0.0)
    # Edge pixels from the same Laplacian (cheaper than Canny, same role: fine structure).
    _, edges = cv2.threshold(
        cv2.convertScaleAbs(lap), config.edge_threshold, 255, cv2.THRESH_BINARY
    )
    # Per-cell mean and standard deviation from the integral images of x and x^2: the
    # whole frame's brightness and contrast come out of the same two tables.
    total, squares = cv2.integral2(grey)
    corners, area = _cells(h, w, config.grid_rows, config.grid_cols)
    s1 = _cell_sums(total.ravel().take(corners))
    s2 = _cell_sums(squares.ravel().take(corners))
    m1 = s1 / area
    cell_std = np.sqrt(np.maximum(s2 / area - m1 * m1, 0.0)).astype(np.float32)
    brightness = float(total[-1, -1]) / n
    contrast = math.sqrt(max(float(squares[-1, -1]) / n - brightness * brightness, 0.0))
    return Measures(
        brightness=brightness,
        contrast=contrast,
        sharpness=sharpness,
        edge_density=cv2.countNonZero(edges) / edges.size,
        cell_std=cell_std,
    )


_grids: dict[tuple[int, int, int, int], tuple[np.ndarray, np.ndarray]] = {}


def _cells(h: int, w: int, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the cell corners sit in a raveled (h+1) x (w+1) integral image, as a
    (rows+1) x (cols+1) index array, and each cell's pixel count."""
    key = (h, w, rows, cols)
    got = _grids.get(key)
    if got is None:
        ys = np.array([round(i * h / rows) for i in range(rows + 1)])
        xs = np.array([round(i * w / cols) for i in range(cols + 1)])
        area = np.outer(np.diff(ys), np.diff(xs)).astype(np.float64)
        got = _grids[key] = (ys[:, None] * (w + 1) + xs[None, :], np.maximum(area, 1.0))
    return got


def _cell_sums(corners: np.ndarray) -> np.ndarray:
    """Per-cell sums from an integral image sampled at the cell corners."""
    c = corners.astype(np.float64)
    return c[1:, 1:] - c[:-1, 1:] - c[1:, :-1] + c[:-1, :-1]


def frame_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute grey difference between two prepared grey frames of the same size."""
    if a.shape != b.shape:
        return float("inf")
    return float(cv2.norm(a, b, cv2.NORM_L1)) / a.size


_windows: dict[tuple[int, int], np.ndarray] = {}


def windowed(small: np.ndarray) -> np.ndarray:
    """The frame multiplied by a Hanning window, ready for view_shift."""
    key = (small.shape[1], small.shape[0])
    window = _windows.get(key)
    if window is None:
        # The window stops the frame borders from dominating the spectrum.
        window = cv2.createHanningWindow(key, cv2.CV_32F)
        _windows[key] = window
    return cv2.multiply(small, window)


def view_shift(reference: np.ndarray, current: np.ndarray) -> tuple[float, float, float]:
    """Phase-correlation shift (dx, dy in pixels) and peak response of two windowed frames."""
    if reference.shape != current.shape:
        return float("inf"), float("inf"), 0.0
    # No window argument: OpenCV 5.0's phaseCorrelate applies it to its inputs in place,
    # which would corrupt the stored reference. The caller passes windowed() copies.
    (dx, dy), response = cv2.phaseCorrelate(reference, current)
    return float(dx), float(dy), float(response)


@dataclass(frozen=True)
class _PolarGrid:
    """Precomputed sampling of a centred square spectrum on an (angle, radius) grid."""

    map_x: np.ndarray
    map_y: np.ndarray
    radial_window: np.ndarray


_polar_grids: dict[tuple[int, int], _PolarGrid] = {}


def _polar_grid(size: int, angles: int) -> _PolarGrid:
    key = (size, angles)
    grid = _polar_grids.get(key)
    if grid is None:
        # Radii from 2 (past the DC term and the window's own spectrum) to the Nyquist
        # radius, sampled straight from the unshifted DFT (negative frequencies wrap).
        radii = np.arange(2, size // 2, dtype=np.float32)
        theta = np.arange(angles, dtype=np.float32) * np.float32(2 * np.pi / angles)
        map_x = (np.cos(theta)[:, None] * radii[None, :]) % size
        map_y = (np.sin(theta)[:, None] * radii[None, :]) % size
        window = np.hanning(len(radii) + 2)[1:-1].astype(np.float32)
        window = np.ascontiguousarray(np.broadcast_to(window, (angles, len(radii))))
        grid = _PolarGrid(map_x.astype(np.float32), map_y.astype(np.float32), window)
        _polar_grids[key] = grid
    return grid


def rotation_signature(small: np.ndarray, angles: int) -> np.ndarray:
    """The DFT of the polar form of the frame's (centre square's) magnitude spectrum.

    The magnitude spectrum ignores where the picture sits (translation) and turns with it,
    so a rotation of the view becomes a shift along the angle axis of its polar form.
    """
    h, w = small.shape[:2]
    size = min(h, w)
    y0, x0 = (h - size) // 2, (w - size) // 2
    square = small[y0 : y0 + size, x0 : x0 + size]
    window = _windows.get((size, size))
    if window is None:
        window = cv2.createHanningWindow((size, size), cv2.CV_32F)
        _windows[(size, size)] = window
    square = cv2.multiply(cv2.subtract(square, float(cv2.mean(square)[0])), window)
    spectrum = cv2.dft(square, flags=cv2.DFT_COMPLEX_OUTPUT)
    magnitude = cv2.log(cv2.magnitude(spectrum[..., 0], spectrum[..., 1]) + 1.0)
    grid = _polar_grid(size, angles)
    polar = cv2.remap(
        magnitude, grid.map_x, grid.map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP
    )
    polar = cv2.multiply(cv2.subtract(polar, float(cv2.mean(polar)[0])), grid.radial_window)
    return cv2.dft(polar, flags=cv2.DFT_COMPLEX_OUTPUT)


def view_rotation(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Rotation in degrees (within ±90) of current against reference, and the peak response."""
    if reference.shape != current.shape:
        return float("nan"), 0.0
    cross = cv2.mulSpectrums(reference, current, 0, conjB=True)
    norm = cv2.magnitude(cross[..., 0], cross[..., 1]) + 1e-6
    cross = cv2.divide(cross, cv2.merge([norm, norm]))
    corr = cv2.idft(cross, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
    # A rotation shifts the polar view along angles only: read the zero radial shift.
    column = corr[:, 0]
    n = len(column)
    k = int(np.argmax(column))
    a, b, c = float(column[k - 1]), float(column[k]), float(column[(k + 1) % n])
    den = a - 2 * b + c
    offset = 0.5 * (a - c) / den if den < 0 else 0.0
    degrees = ((k + offset) * 360.0 / n + 90.0) % 180.0 - 90.0  # the spectrum repeats at 180°
    return degrees, b
