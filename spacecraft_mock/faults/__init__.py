"""Fault injection: the catalogue is mission.faults; the effects on the world live here."""

from spacecraft_mock.faults.injector import ActiveFaultInstance, FaultInjector, InjectionError

__all__ = ["ActiveFaultInstance", "FaultInjector", "InjectionError"]
