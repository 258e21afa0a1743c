"""Telemetry ingest: MQTT reception, frame checks, packet extraction, decoding and archiving.

``IngestService`` (``ground.ingest.service``) runs the pipeline; ``python -m ground.ingest`` runs
it alone (tests kill it with SIGKILL to prove that nothing is lost or stored twice).
"""
