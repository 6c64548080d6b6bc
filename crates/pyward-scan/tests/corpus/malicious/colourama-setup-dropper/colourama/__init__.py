from .ansi import Fore, Back, Style
