"""Splunk delivery over the HTTP Event Collector (CE has no Splunk receiver for CTO alerts).

``sink.deliver_alerts`` is what a pull calls; ``validation.probe_hec`` is what
``validate_step`` calls. Underneath: ``cim`` (alert -> CIM Alerts event), ``outbox`` (durable,
bounded queue in CE storage), ``hec_client`` (HTTP), ``hec_protocol`` (Splunk's codes).
See docs/delivery.md.
"""
