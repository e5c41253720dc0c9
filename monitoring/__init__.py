"""CCTV monitoring: cameras, zones, stream probes, image checks and retention proof.

Not built yet; usable alone as a library and CLI once it is.
"""
