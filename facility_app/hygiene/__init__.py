"""Disinfection schedules and logs, and which tasks are overdue."""
