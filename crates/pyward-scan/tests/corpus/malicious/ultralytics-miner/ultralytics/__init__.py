__version__ = "8.3.41"
from .utils.downloads import safe_download
