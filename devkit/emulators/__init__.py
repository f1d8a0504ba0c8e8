"""Local stand-ins over real HTTP for the services the plugin and CE talk to.

``hec.HecEmulator`` (Splunk HTTP Event Collector) and ``servicenow.ServiceNowEmulator``
(ServiceNow Table API) share ``base.Emulator``: 127.0.0.1 on a free port, optional TLS,
fault injection and inspection from Python and over HTTP (``/_emulator/...``).
"""
