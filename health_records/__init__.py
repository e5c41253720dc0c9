"""Child and staff health: exams, morning checks, illness follow-up and cluster detection.

Not built yet.
"""
