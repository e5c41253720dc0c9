"""Staff, their class assignments and their duty sessions."""
