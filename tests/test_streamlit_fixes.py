"""ui/streamlit_fixes.py: a page switch waiting for the script at work is not undone by a
fragment timer's request from the page the browser still shows."""

import types

import pytest
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

from tests.harness import ROOT
from ui import streamlit_fixes

TRAIN, DRAW = "hash-of-train", "hash-of-draw"


def click_then_tick(requests: ScriptRequests) -> RerunData:
    """A click on the train page (a full rerun), then, before the script at work could stop, a
    fragment timer's rerun from the draw page: what the server will run."""
    requests.request_rerun(RerunData(page_script_hash=TRAIN, page_name="train", query_string="x=1"))
    requests.request_rerun(
        RerunData(page_script_hash=DRAW, page_name="draw", fragment_id="f", is_auto_rerun=True)
    )
    return requests._rerun_data


def test_without_the_fix_streamlit_runs_the_page_the_timer_named():
    streamlit_fixes.keep_page_switches()
    plain = ScriptRequests()
    streamlits_own = ScriptRequests._request_rerun_locked.original  # what the fix wraps
    plain._request_rerun_locked = types.MethodType(streamlits_own, plain)
    folded = click_then_tick(plain)
    assert folded.page_script_hash == DRAW  # the click is lost: why the fix exists
    assert not folded.fragment_id_queue  # one full rerun


def test_with_the_fix_the_click_on_another_page_is_kept():
    streamlit_fixes.keep_page_switches()
    folded = click_then_tick(ScriptRequests())
    assert (folded.page_script_hash, folded.page_name, folded.query_string) == (TRAIN, "train", "x=1")
    assert not folded.fragment_id_queue and not folded.is_fragment_scoped_rerun  # a full rerun


def test_the_fix_changes_nothing_else():
    streamlit_fixes.keep_page_switches()
    tick_then_click = ScriptRequests()  # a timer's rerun, then the click: the click, as before
    tick_then_click.request_rerun(RerunData(page_script_hash=DRAW, fragment_id="f", is_auto_rerun=True))
    tick_then_click.request_rerun(RerunData(page_script_hash=TRAIN))
    assert tick_then_click._rerun_data.page_script_hash == TRAIN
    two_clicks = ScriptRequests()  # a click, then a click on a third page: the last click wins
    two_clicks.request_rerun(RerunData(page_script_hash=TRAIN))
    two_clicks.request_rerun(RerunData(page_script_hash="hash-of-home"))
    assert two_clicks._rerun_data.page_script_hash == "hash-of-home"
    two_ticks = ScriptRequests()  # two fragments' timers: both fragments run, on the page named last
    two_ticks.request_rerun(RerunData(page_script_hash=DRAW, fragment_id="f", is_auto_rerun=True))
    two_ticks.request_rerun(RerunData(page_script_hash=DRAW, fragment_id="g", is_auto_rerun=True))
    assert two_ticks._rerun_data.fragment_id_queue == ["f", "g"]
    first = ScriptRequests()  # nothing waiting: the timer's request as it is
    first.request_rerun(RerunData(page_script_hash=DRAW, fragment_id="f", is_auto_rerun=True))
    assert first._rerun_data.page_script_hash == DRAW and first._rerun_data.fragment_id_queue == ["f"]


@pytest.mark.parametrize(
    ("fragment", "asked", "session", "stale"),
    [
        ("f", DRAW, TRAIN, True),  # the Draw page's timer, the session now on the train page
        ("f", TRAIN, TRAIN, False),  # a fragment of the page the session is on
        ("", DRAW, TRAIN, False),  # a click on another page: a full rerun, never dropped
        ("f", "", TRAIN, False),  # the page not named: left to Streamlit
        ("f", DRAW, "", False),  # the session's page not known yet
    ],
)
def test_only_a_fragments_rerun_from_another_page_is_stale(fragment, asked, session, stale):
    assert streamlit_fixes.is_stale_fragment_rerun(fragment, asked, session) is stale


def test_the_session_drops_a_timer_of_the_page_it_left_and_passes_on_the_rest(monkeypatch):
    streamlit_fixes.install()
    passed_on = []
    monkeypatch.setattr(AppSession.request_rerun, "original", lambda session, state: passed_on.append(state))
    on_train = types.SimpleNamespace(_client_state=ClientState(page_script_hash=TRAIN))
    timer = ClientState(fragment_id="f", page_script_hash=DRAW, is_auto_rerun=True)
    AppSession.request_rerun(on_train, timer)
    assert passed_on == []  # dropped: it would have run the Draw page after the train page
    own_timer = ClientState(fragment_id="g", page_script_hash=TRAIN, is_auto_rerun=True)
    click = ClientState(page_script_hash=DRAW)  # back to the Draw page: a full rerun
    for state in (own_timer, click, None):
        AppSession.request_rerun(on_train, state)
    assert passed_on == [own_timer, click, None]


def test_a_page_run_installs_both_once(fake_mnist_dir, monkeypatch):
    from streamlit.testing.v1 import AppTest

    fold = ScriptRequests._request_rerun_locked
    request = AppSession.request_rerun
    monkeypatch.setattr(ScriptRequests, "_request_rerun_locked", getattr(fold, "original", fold))
    monkeypatch.setattr(AppSession, "request_rerun", getattr(request, "original", request))
    monkeypatch.delattr(ScriptRequests, streamlit_fixes.INSTALLED, raising=False)
    monkeypatch.delattr(AppSession, streamlit_fixes.DROPS, raising=False)  # as a new server has them
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(fake_mnist_dir))
    AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    fixes = ScriptRequests._request_rerun_locked, AppSession.request_rerun
    assert fixes[0].original is getattr(fold, "original", fold)
    assert fixes[1].original is getattr(request, "original", request)
    streamlit_fixes.install()
    assert (ScriptRequests._request_rerun_locked, AppSession.request_rerun) == fixes  # not wrapped twice
