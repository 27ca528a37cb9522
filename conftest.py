"""Every test runs under eventlet, as the services do."""

import eventlet

eventlet.monkey_patch()
