# Pyarmor 8.4.0 (trial), 000000
from .pyarmor_runtime import __pyarmor__
