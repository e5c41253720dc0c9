"""Class size and caregiver ratio: the rules, the live status and the breach history."""
