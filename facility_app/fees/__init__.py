"""Fee schedule per class type and care type, checked against the 普惠 caps."""
