__version__ = "1.22"
