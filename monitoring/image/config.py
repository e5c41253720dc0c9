"""Thresholds for the image checks: every number lives here, never in the check code."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ImageCheckConfig(BaseModel):
    """Thresholds and window sizes for classifying camera frames."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    analysis_width: int = Field(
        256,
        ge=64,
        description="Frames are downscaled to this width (grey) before analysis: 256 px "
        "(a fifth of 720p) keeps every check's answer on the labelled clips and costs two "
        "thirds of 320 px.",
    )
    grid_cols: int = Field(8, ge=2, description="Columns of the cell grid used for texture.")
    grid_rows: int = Field(6, ge=2, description="Rows of the cell grid used for texture.")
    persist_samples: int = Field(
        3, ge=1, description="K: a condition is raised only after K consecutive samples."
    )
    persist_probes: int = Field(
        2,
        ge=1,
        description="K across probes: a condition seen throughout one probe's burst is only "
        "suspected (the camera stays healthy); it is raised when K consecutive probes show it. "
        "With the agent probing every 5 minutes, 2 raises within 5 to 10 minutes.",
    )
    mono_max_chroma: float = Field(
        3.0,
        ge=0,
        description="Mean |green - grey| (0-255) at or below which a frame is black and white "
        "(a camera's infrared night mode); such frames have their own baseline.",
    )
    baseline_min_samples: int = Field(
        5, ge=1, description="Normal samples needed before relative (baseline) thresholds apply."
    )
    baseline_alpha: float = Field(
        0.05,
        gt=0,
        le=1,
        description="Weight of a new normal sample in the running baseline once it is warm.",
    )
    # Black: no signal, or the lens covered in the dark.
    black_max_mean: float = Field(
        16.0, ge=0, description="Mean grey level (0-255) at or below which a flat frame is black."
    )
    black_max_std: float = Field(
        6.0, ge=0, description="Grey standard deviation at or below which a frame is flat."
    )
    black_relative_mean: float = Field(
        0.3,
        ge=0,
        le=1,
        description="A flat frame darker than this fraction of the baseline brightness is black.",
    )
    # Frozen: the stream repeats the same picture.
    frozen_max_diff: float = Field(
        0.35,
        ge=0,
        description="Mean absolute grey difference to a previous sample at or below which the "
        "two are the same picture (live sensors differ by more through noise alone).",
    )
    frozen_window: int = Field(
        2, ge=1, description="N: the frame must equal each of the previous N samples to be frozen."
    )
    # Covered / occluded: most of the frame has no texture.
    covered_cell_std: float = Field(
        4.0, ge=0, description="A cell whose grey standard deviation is below this has no texture."
    )
    covered_cell_ratio: float = Field(
        0.75,
        ge=0,
        le=1,
        description="With a baseline, a cell is textureless only below this fraction of its own "
        "baseline standard deviation (so a dim, flat night scene is not covered).",
    )
    covered_edge_ratio: float = Field(
        0.25,
        ge=0,
        le=1,
        description="With a baseline, covered also needs the edge density below this fraction "
        "of the baseline edge density.",
    )
    covered_min_fraction: float = Field(
        0.75,
        ge=0,
        le=1,
        description="Fraction of textureless cells from which the view is covered.",
    )
    edge_threshold: int = Field(
        40, ge=0, le=255, description="Absolute Laplacian response that counts as an edge pixel."
    )
    # Blurred / defocused.
    blur_relative: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Blurred when sharpness (variance of Laplacian) falls below this fraction "
        "of the baseline sharpness.",
    )
    blur_absolute: float = Field(
        20.0, ge=0, description="Without a baseline: blurred when sharpness is below this."
    )
    # Moved from the enrolled view.
    moved_width: int = Field(
        96, ge=32, description="Width of the frames compared with phase correlation."
    )
    moved_max_shift: float = Field(
        0.04,
        ge=0,
        le=1,
        description="Moved when the view shifted by more than this fraction of the frame width.",
    )
    moved_min_response: float = Field(
        0.15,
        ge=0,
        le=1,
        description="Moved when the phase-correlation peak (view match) is below this: the "
        "view no longer matches the reference (rotated, re-aimed).",
    )
    moved_response_ratio: float = Field(
        0.55,
        ge=0,
        le=1,
        description="With a baseline, moved also when the view match falls below this fraction "
        "of the camera's usual view match (scenes with much motion match less well).",
    )
    moved_max_rotation: float = Field(
        1.5,
        ge=0,
        le=90,
        description="Moved when the view turned by more than this many degrees (estimated "
        "from the polar form of the magnitude spectrum, which a shift does not change).",
    )
    moved_every: int = Field(
        3,
        ge=1,
        description="Estimate the view (shift, match and rotation against the reference) at "
        "least on every Nth sample of a camera; in between, a sample that looks like the one "
        "last estimated (see moved_reuse_max_diff) takes that estimate. The estimate is the "
        "costliest check, and a view changes only when the camera is moved.",
    )
    moved_reuse_max_diff: float = Field(
        4.0,
        ge=0,
        description="A sample takes the last view estimate only when its small grey picture "
        "differs from the estimated one by at most this mean grey difference (0-255). "
        "Successive samples of a scene with motion and sensor noise differ by about 2; a "
        "turn of 1 degree or a shift of 1 % of the width by 5 or more, so a moved camera "
        "always gets a new estimate at once.",
    )
    moved_rotation_angles: int = Field(
        128,
        ge=16,
        description="Angle steps of the polar view used to estimate rotation (360° / steps, "
        "refined below a step by peak interpolation).",
    )
