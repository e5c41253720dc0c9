"""The facility daemon: scheduled checks, the compliance engine, the outbox and MQTT reports.

Not built yet: the foundation only reserves the package so that the dependency
direction of the design (domain packages -> facility_app models -> edge_agent) holds
from the start.
"""
