class Fore: RED = "\x1b[31m"
class Back: RED = "\x1b[41m"
class Style: RESET_ALL = "\x1b[0m"
