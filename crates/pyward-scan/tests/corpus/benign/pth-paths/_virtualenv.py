"""Patches applied at start-up inside virtual environments."""
import sys
VIRTUALENV_PATCH_FILE = __file__
