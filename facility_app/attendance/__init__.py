"""Attendance at the door: check-in, check-out, absences and the end of the day."""
