"""Pass/fail bookkeeping of the Python test scripts: check() each
assertion (a failure prints one FAIL line), summary() prints the
"N passed, N failed" line the test runner reads and returns the exit
status (failing, too, when nothing was checked at all)."""
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
