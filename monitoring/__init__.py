"""CCTV monitoring: cameras, stream probes, image checks and retention proof.

Usable alone as a library and through ``carewatch monitor``; it imports nothing from the
web app or the agent. Built so far: ``probe`` (streams opened with bounded timeouts,
frame rate and resolution measured), ``image`` (black, frozen, covered, blurred and moved
pictures against per-camera baselines) and ``retention`` (recording stores scanned into a
90-day proof with gaps, bad segments, deletions and a storage forecast). The camera and
zone registry, zone coverage and the facility app's pages are still to come.
"""
