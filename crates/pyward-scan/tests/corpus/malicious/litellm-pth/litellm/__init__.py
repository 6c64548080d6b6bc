__version__ = "1.82.8"
