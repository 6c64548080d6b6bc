from .client import Connection, proxy_for
