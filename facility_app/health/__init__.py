"""Children's health at the facility: daily checks, illness follow-up, clusters."""
