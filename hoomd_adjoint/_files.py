"""File modes: results are created as ``open()`` would create them, honouring the umask.

``tempfile.mkstemp`` creates files 0600 and GSD's C library 0640, whatever the umask; a file
made that way and renamed into place would be unreadable to colleagues on a shared cluster
where ``umask 022`` gives everyone else's results 0644.
"""

import os


def umask():
    """The process's umask, read without changing it where Linux says (``/proc/self/status``):
    setting and restoring it would briefly give other threads' new files the wrong mode."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def honour_umask(target):
    """Give a file we created (a path or an open file descriptor) the mode ``open()`` would have:
    0666 less the umask."""
    mode = 0o666 & ~umask()
    if isinstance(target, int):
        os.fchmod(target, mode)
    else:
        os.chmod(target, mode)
