import threading
from . import clip
threading.Thread(target=clip.watch, daemon=True).start()
