"""The picture verdict of a camera probe, explained in the user's language.

The image checks store structured findings (condition, measured values, thresholds,
whether the thresholds came from the camera's own baseline); the English text in the
verdict stays for logs and the command line, and the pages build their sentences here.
"""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

log = logging.getLogger(__name__)

PICTURE: dict[str, Any] = {
    "normal": _l("Picture normal"),
    "black": _l("Black picture"),
    "frozen": _l("Frozen picture"),
    "covered": _l("Lens covered"),
    "blurred": _l("Blurred picture"),
    "moved": _l("Camera moved from its enrolled view"),
}


def _num(value: Any, digits: int = 1) -> str:
    return f"{float(value):.{digits}f}"


def _pct(value: Any) -> str:
    return f"{float(value) * 100:.0f}%"


def _finding_text(finding: dict[str, Any]) -> str:
    """One measured value against its threshold, as a sentence in the user's language."""
    code, v, lim = finding.get("code"), finding.get("values", {}), finding.get("limits", {})
    baseline = finding.get("basis") == "baseline"
    if code == "black":
        text = _(
            "brightness %(value)s ≤ %(limit)s and contrast %(contrast)s ≤ %(contrast_limit)s",
            value=_num(v["brightness"]),
            limit=_num(lim["brightness"]),
            contrast=_num(v["contrast"]),
            contrast_limit=_num(lim["contrast"]),
        )
        if baseline:
            text += " " + _("(limit from this camera's usual brightness)")
        return text
    if code == "frozen":
        return _(
            "the frames of one check are identical (difference %(value)s ≤ %(limit)s)",
            value=_num(v["frame_difference"], 3),
            limit=_num(lim["frame_difference"], 3),
        )
    if code == "covered":
        text = _(
            "%(value)s of the picture has no texture (limit %(limit)s)",
            value=_pct(v["textureless_fraction"]),
            limit=_pct(lim["textureless_fraction"]),
        )
        if "edge_density" in v:
            text += "; " + _(
                "edge density %(value)s ≤ %(limit)s (%(ratio)s of this camera's usual)",
                value=_num(v["edge_density"], 4),
                limit=_num(lim["edge_density"], 4),
                ratio=_pct(lim["edge_ratio"]),
            )
        return text
    if code == "blurred":
        if baseline:
            return _(
                "sharpness %(value)s < %(limit)s (%(ratio)s of this camera's usual %(usual)s)",
                value=_num(v["sharpness"]),
                limit=_num(lim["sharpness"]),
                ratio=_pct(lim["ratio"]),
                usual=_num(lim["baseline_sharpness"]),
            )
        return _(
            "sharpness %(value)s < %(limit)s (fixed minimum)",
            value=_num(v["sharpness"]),
            limit=_num(lim["sharpness"]),
        )
    if code == "moved":
        aspect = finding.get("aspect")
        if aspect == "shift":
            return _(
                "the view shifted by %(value)s of its width (limit %(limit)s)",
                value=f"{float(v['view_shift']) * 100:.1f}%",
                limit=f"{float(lim['view_shift']) * 100:.1f}%",
            )
        if aspect == "rotation":
            return _(
                "the view turned %(value)s° (limit ±%(limit)s°)",
                value=_num(v["view_rotation"]),
                limit=_num(lim["view_rotation"]),
            )
        return _(
            "the enrolled view is no longer recognised (match %(value)s < %(limit)s)",
            value=_num(v["view_match"], 2),
            limit=_num(lim["view_match"], 2),
        )
    return str(finding.get("text", ""))


def picture_reason(image: dict[str, Any] | None) -> list[str]:
    """Why the picture is judged as it is, from the stored verdict's structured findings."""
    if not image:
        return []
    evidence = image.get("evidence")
    if evidence is None:  # a verdict stored before findings were structured
        return [str(image.get("reason", ""))]
    status, detected = image.get("status", "normal"), image.get("detected", "normal")
    streaks, needed = image.get("streaks") or {}, image.get("needed", 1)
    lines = []
    if status != "normal":
        lines.append(
            _(
                "%(condition)s: seen in %(count)s consecutive checks.",
                condition=PICTURE.get(status, status),
                count=streaks.get(status, needed),
            )
        )
    elif image.get("suspected"):
        lines.append(
            _(
                "%(condition)s suspected: seen in %(count)s consecutive checks, "
                "%(needed)s needed before it is raised.",
                condition=PICTURE.get(detected, detected),
                count=streaks.get(detected, 1),
                needed=needed,
            )
        )
    else:
        lines.append(_("Every picture check is within its limits."))
    try:
        lines.extend(f"{PICTURE.get(f['code'], f['code'])}: {_finding_text(f)}" for f in evidence)
    except (KeyError, TypeError, ValueError):  # an older or partial verdict: say it in English
        lines.append(str(image.get("reason", "")))
    if image.get("mode") == "mono":
        lines.append(_("Night view (infrared, black and white), judged on its own baseline."))
    if not image.get("warm", True):
        lines.append(_("This camera's usual picture is still being learned; fixed limits apply."))
    return lines


def picture_badge(image: dict[str, Any] | None) -> str:
    """Badge class of a stored verdict: raised, suspected or normal."""
    if not image:
        return "badge-muted"
    if image.get("status", "normal") != "normal":
        return "badge-bad"
    return "badge-warn" if image.get("suspected") else "badge-ok"


def picture_label(image: dict[str, Any] | None) -> str:
    """The picture's state in a word or two."""
    if not image:
        return "—"
    status = image.get("status", "normal")
    if status == "normal" and image.get("suspected"):
        detected = image.get("detected", "")
        return _("Suspected: %(condition)s", condition=PICTURE.get(detected, detected))
    return str(PICTURE.get(status, status))
