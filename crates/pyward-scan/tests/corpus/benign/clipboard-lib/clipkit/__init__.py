"""Cross-platform copy and paste (like pyperclip)."""
import subprocess
import sys


def copy(text):
    if sys.platform == "darwin":
        subprocess.run(["pbcopy"], input=text.encode(), check=True)
    else:
        subprocess.run(["xclip", "-selection", "clipboard"], input=text.encode(), check=True)


def paste():
    if sys.platform == "darwin":
        return subprocess.run(["pbpaste"], capture_output=True, check=True).stdout.decode()
    return subprocess.run(
        ["xclip", "-selection", "clipboard", "-o"], capture_output=True, check=True
    ).stdout.decode()
