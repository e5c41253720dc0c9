"""Staff credentials: certificates, health exams, background checks, training, the ban list."""
