"""The supervision hub: the regulator's side that receives, verifies and shows reports."""
