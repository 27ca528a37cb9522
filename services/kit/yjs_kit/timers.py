"""A nameko timer whose interval is a setting: the service's config, else the environment, else
a default — so tests and demos run the same checks every fraction of a second."""

from __future__ import annotations

import os

from nameko.timer import Timer


class ConfiguredTimer(Timer):
    def __init__(self, setting: str, default: float, **kwargs):
        self.setting = setting
        super().__init__(interval=default, **kwargs)

    def setup(self):
        configured = self.container.config.get(self.setting) or os.environ.get(self.setting)
        if configured:
            self.interval = float(configured)
        super().setup()


every = ConfiguredTimer.decorator
