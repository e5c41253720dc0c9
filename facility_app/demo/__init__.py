"""A realistic demo facility with three months of history, for `carewatch demo seed` and `up`."""
