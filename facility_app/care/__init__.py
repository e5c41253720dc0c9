"""Daily care log: care entries, naps and sleep checks, outdoor time."""
