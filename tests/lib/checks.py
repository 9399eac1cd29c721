"""Pass/fail bookkeeping of the Python test scripts: check() each
assertion (a failure prints one FAIL line), summary() prints the
"N passed, N failed" line the test runner reads and returns the exit
status (failing, too, when nothing was checked at all); workdir() gives a
test its scratch directory and removes it."""
import contextlib
import os
import shutil
import signal
import sys
import tempfile

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def summary():
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


@contextlib.contextmanager
def workdir(name):
    """A scratch directory for a test's captures and outputs (tens of MB),
    removed when the test ends however it ends, the runner's timeout
    (SIGTERM) included: the signal becomes an exit that unwinds (and
    subprocess.run kills the child it waits for); kept when HS_KEEP=1, to
    look at a failure."""
    d = tempfile.mkdtemp(prefix="hs-%s-" % name)
    old = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        yield d
    finally:
        # the timeout signals the whole process group again: the
        # removal goes on through it
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if os.environ.get("HS_KEEP") != "1":
            shutil.rmtree(d, ignore_errors=True)
        signal.signal(signal.SIGTERM, old)
