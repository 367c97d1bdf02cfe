"""A fix for Streamlit 1.67: a click on another page lost to the old page's fragment timer.

While a run trains, the Draw page's answer reruns every second (`st.fragment(run_every=1)`): the
browser's timer asks for a fragment rerun, carrying the page it shows. A click on *Train* in the
sidebar clears those timers and asks for a full rerun of the train page. But a timer can start
again after the click: the server's message that sets it, sent just before the click, reaches a
busy browser just after it (and the browser names the page it shows, still the Draw page, until
the server's reply to the click comes). When that timer's request reaches the server while the
click's full rerun still waits (the script at work has not reached a point where it can stop:
a second of torch work on a loaded machine), Streamlit folds the two into one full rerun, as it
should, but of the page named by the *newer* request (`ScriptRequests._request_rerun_locked`):
the Draw page runs again and the click is lost. Seen in a whole-suite run on 2 cores: the browser
test, after clicking *Train*, found the Draw page still there, its address /draw. (The browser can
also go on showing the Draw page after the train page has run on the server: another glitch,
not this one, seen since with the fix in; README, *Many users*.)

Here the fold keeps the waiting full rerun's page when the newer request is a fragment's: a
fragment's rerun never means "go to this page". Installed once per process, on a page's first
run (`shell.run_inside_app`); tests/test_streamlit_fixes.py shows the fold with and without it,
and fails when Streamlit no longer has what it replaces (then check whether it is still needed).
"""

from __future__ import annotations

from dataclasses import replace

from streamlit.runtime.scriptrunner_utils import script_requests

INSTALLED = "_playground_keeps_page_switches"  # set on the class once the fix is in


def keep_page_switches() -> None:
    """Install the fix (once per process; later calls do nothing)."""
    requests = script_requests.ScriptRequests
    if getattr(requests, INSTALLED, False):
        return
    fold = requests._request_rerun_locked
    is_full = script_requests._is_full_app_rerun

    def request_rerun_locked(self, new_data: script_requests.RerunData) -> bool:
        waiting = self._rerun_data if self._state == script_requests.ScriptRequestType.RERUN else None
        accepted = fold(self, new_data)
        if accepted and waiting is not None and is_full(waiting) and not is_full(new_data):
            self._rerun_data = replace(
                self._rerun_data,
                page_script_hash=waiting.page_script_hash,
                page_name=waiting.page_name,
                query_string=waiting.query_string,
            )
        return accepted

    request_rerun_locked.original = fold  # for the test that shows what it fixes
    requests._request_rerun_locked = request_rerun_locked
    setattr(requests, INSTALLED, True)
