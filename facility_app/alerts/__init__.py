"""Alerts a director must act on."""
