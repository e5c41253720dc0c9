"""The facility daemon: scheduled checks, the compliance engine, the outbox and MQTT reports."""
