from ._util import check
check()
