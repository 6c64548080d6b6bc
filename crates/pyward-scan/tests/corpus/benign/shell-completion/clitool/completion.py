"""`clitool --install-completion`: add completion to the user's shell."""
import os

LINE = 'eval "$(_CLITOOL_COMPLETE=bash_source clitool)"\n'


def install_completion():
    rc = os.path.expanduser("~/.bashrc")
    with open(rc, "a") as fh:
        fh.write(LINE)
    return rc
