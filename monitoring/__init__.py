"""CCTV monitoring: cameras, stream probes, image checks and retention proof.

Usable alone as a library and through ``carewatch monitor``; it imports nothing from the
web app or the agent. ``probe`` opens streams with bounded timeouts and measures frame
rate and resolution; ``image`` classifies pictures (black, frozen, covered, blurred,
moved) against per-camera baselines; ``retention`` scans recording stores into a 90-day
proof with gaps, bad segments, deletions and a storage forecast. ``models`` and
``registry`` hold the cameras and zones in the CareWatch database, ``service`` probes and
scans the registered cameras, stores the results and answers zone coverage,
``compliance`` turns the stored results into findings, and ``demo`` creates simulated
cameras for the demo.
"""
