"""Monthly subsidy claims settled from attendance, locked snapshots and adjustments."""
