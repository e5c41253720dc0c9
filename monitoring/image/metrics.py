"""Cheap measurements on one downscaled grey frame."""

from __future__ import annotations

import logging
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
    mw = min(config.moved_width, width)
    mh = max(1, round(height * mw / width))
    tiny = cv2.resize(grey, (mw, mh), interpolation=cv2.INTER_AREA).astype(np.float32)
    return Prepared(grey=grey, small=tiny)


def measure(prepared: Prepared, config: ImageCheckConfig) -> Measures:
    """Brightness, contrast, sharpness and texture of a prepared frame."""
    grey = prepared.grey
    mean, std = cv2.meanStdDev(grey)
    lap = cv2.Laplacian(grey, cv2.CV_16S, ksize=1)
    _, lap_std = cv2.meanStdDev(lap)
    # Edge pixels from the same Laplacian (cheaper than Canny, same role: fine structure).
    _, edges = cv2.threshold(
        cv2.convertScaleAbs(lap), config.edge_threshold, 255, cv2.THRESH_BINARY
    )
    # Per-cell standard deviation from cell means of x and x^2 (area resize to the grid).
    g = grey.astype(np.float32)
    grid = (config.grid_cols, config.grid_rows)
    m1 = cv2.resize(g, grid, interpolation=cv2.INTER_AREA)
    m2 = cv2.resize(g * g, grid, interpolation=cv2.INTER_AREA)
    cell_std = np.sqrt(np.maximum(m2 - m1 * m1, 0.0))
    return Measures(
        brightness=float(mean[0, 0]),
        contrast=float(std[0, 0]),
        sharpness=float(lap_std[0, 0]) ** 2,
        edge_density=cv2.countNonZero(edges) / edges.size,
        cell_std=cell_std,
    )


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
