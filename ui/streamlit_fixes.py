"""Two fixes for Streamlit 1.67: a click on another page undone by the old page's fragment timer.

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
test, after clicking *Train*, found the Draw page still there, its address /draw.
`keep_page_switches` makes the fold keep the waiting full rerun's page when the newer request is
a fragment's: a fragment's rerun never means "go to this page".

And when the timer's request comes once the train page's run has begun, Streamlit queues it as a
fragment run of the Draw page, after the train page's run: that run finds the Draw page's
fragment gone and draws nothing, but it starts as a run *of the Draw page* (the request names
it), and the browser, told that the page changed, clears what it shows and takes the address
/draw: seen in the next whole-suite run, with the first fix in (the address /draw with the
train page's settings, which that page had written; the train page not shown). A fragment's
request naming another page than the one the session is on comes from a page the browser is
leaving: `drop_stale_fragment_reruns` drops it (`AppSession.request_rerun`).

Installed once per process, on a page's first run (`shell.run_inside_app`).
tests/test_streamlit_fixes.py shows Streamlit's own behaviour and the fixed one, and fails when
Streamlit no longer has what they wrap (then check whether they are still needed).
"""

from __future__ import annotations

from dataclasses import replace

from streamlit.runtime import app_session
from streamlit.runtime.scriptrunner_utils import script_requests

INSTALLED = "_playground_keeps_page_switches"  # set on the class once the fix is in
DROPS = "_playground_drops_stale_fragment_reruns"


def install() -> None:
    """Both fixes, once per process (later calls do nothing)."""
    keep_page_switches()
    drop_stale_fragment_reruns()


def is_stale_fragment_rerun(fragment_id: str, asked_page: str, session_page: str) -> bool:
    """A fragment's rerun asked from a page other than the one the session is on (both known)."""
    return bool(fragment_id) and bool(asked_page) and bool(session_page) and asked_page != session_page


def drop_stale_fragment_reruns() -> None:
    session = app_session.AppSession
    if getattr(session, DROPS, False):
        return
    request = session.request_rerun

    def request_rerun(self, client_state) -> None:
        if client_state is not None and is_stale_fragment_rerun(
            client_state.fragment_id, client_state.page_script_hash, self._client_state.page_script_hash
        ):
            return  # a timer of a page the browser is leaving: its run would take the browser back
        request_rerun.original(self, client_state)

    request_rerun.original = request
    session.request_rerun = request_rerun
    setattr(session, DROPS, True)


def keep_page_switches() -> None:
    """The first fix (once per process; later calls do nothing)."""
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
