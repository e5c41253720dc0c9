"""Children, their enrolments, guardians and authorised pick-up persons."""
