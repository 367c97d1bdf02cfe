"""The harness's watch on a server's output: drained (a full pipe would block the server) and its
tracebacks kept, which fail the suite's shared servers (tests/harness.served_app); and its ports,
which the suite's two processes never both take."""

import os
import subprocess
import sys
from pathlib import Path

from tests.harness import OutputWatch, claim_port

# More than a pipe holds (64 KB), then what Streamlit's logger prints for an error on the server.
SERVER = """
print("x" * 100_000)
print("2026-12-02 02:36:07.781 Error executing deferred callable for file_id 9071")
print("Traceback (most recent call last):")
print('  File "media_file_manager.py", line 480, in execute_deferred')
print("MediaFileStorageError: Deferred file 9071 not found")
print()
print("  Stopping...")
"""


def test_a_servers_output_is_drained_and_each_traceback_kept():
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    watch = OutputWatch(proc)
    watch.start()
    assert proc.wait(60) == 0  # it could write all of it: someone read the pipe
    watch.join(60)
    assert watch.traceback_texts() == [
        "Traceback (most recent call last):\n"
        '  File "media_file_manager.py", line 480, in execute_deferred\n'
        "MediaFileStorageError: Deferred file 9071 not found"
    ]
    assert watch.lines[-1] == "  Stopping..."


def test_output_without_a_traceback_has_none():
    proc = subprocess.Popen(
        [sys.executable, "-c", "print('You can now view your Streamlit app in your browser.')"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    watch = OutputWatch(proc)
    watch.start()
    assert proc.wait(60) == 0
    watch.join(60)
    assert watch.traceback_texts() == []
    assert watch.lines == ["You can now view your Streamlit app in your browser."]


# Claims a port the way the other process of the suite would, says so, and lives until told.
OTHER_PROCESS = """
import sys
from tests.harness import claim_port
print(claim_port(int(sys.argv[1])), flush=True)
sys.stdin.read()
"""


def test_a_port_another_process_claimed_is_not_taken_until_that_process_ends():
    port = 70_000 + os.getpid()  # no real port (only its claim's file): no server of the suite has it
    other = subprocess.Popen(
        [sys.executable, "-c", OTHER_PROCESS, str(port)],
        cwd=Path(__file__).resolve().parent.parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout.readline().strip() == "True"
        assert not claim_port(port)
    finally:
        other.stdin.close()
        other.wait(60)
    assert claim_port(port)  # its claim ended with it
