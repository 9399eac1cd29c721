# shellcheck shell=bash
# clean_up_on_exit FUNC: run FUNC when the script ends, however it ends.
# A timeout signals the whole process group, so a second SIGTERM can come
# while FUNC runs and cut it short (namespaces, pins and daemons left
# behind): FUNC runs with INT and TERM ignored, and so do the commands it
# starts. Sourced by the test bed, the benches and tests/lib/checks.sh.
clean_up_on_exit() {
	trap "trap '' INT TERM; $1" EXIT
}
