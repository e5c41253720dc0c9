"""The facility profile, its classes, its policy profile and its service calendar."""
