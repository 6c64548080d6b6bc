from .utils import *  # noqa
