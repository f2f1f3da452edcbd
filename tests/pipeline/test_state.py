"""pipeline/state.json: what is done, written atomically, read back or refused clearly."""

from __future__ import annotations

import pytest

from vulntune.pipeline.state import (
    STEPS,
    PipelineState,
    PipelineStateError,
    ReportRecord,
    read_state,
    state_path,
    write_state,
)


def _state() -> PipelineState:
    return PipelineState(
        reports=[ReportRecord(path="/ci/r1", revision="r1", commit="9182c25d")],
        source_root="/src/project",
        base_model="tiny-random",
        settings={"catalogue_max": 5},
    )


def test_steps_are_recorded_in_pipeline_order_and_the_next_one_is_the_first_not_done():
    state = _state()
    assert state.next_step() == "ingest"
    state = state.with_done("create").with_done("ingest").with_done("datasets")
    assert state.done == ["ingest", "datasets", "create"]
    assert state.next_step() == "stage1"
    assert state.with_done("create").done == state.done  # marking twice changes nothing
    for step in STEPS:
        state = state.with_done(step)
    assert state.next_step() is None


def test_the_state_round_trips_through_the_run_directory(tmp_path):
    state = _state().with_done("ingest")
    folder = tmp_path / "pipeline"
    folder.mkdir()
    write_state(folder, state)
    assert read_state(tmp_path) == state
    assert [p.name for p in folder.iterdir()] == ["state.json"]  # no temporary left behind


def test_a_run_without_a_state_names_the_commands_that_continue_it(tmp_path):
    with pytest.raises(PipelineStateError, match=r"no pipeline/state\.json.*vulntune train"):
        read_state(tmp_path)


UNKNOWN_STEP = (
    '{"version": 1, "reports": [], "source_root": null, "base_model": "m", "done": ["x"]}'
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "not a valid pipeline state"),
        (UNKNOWN_STEP, r"done\.0"),
        ('{"version": 2, "reports": [], "source_root": null, "base_model": "m"}', "version"),
    ],
)
def test_a_damaged_state_is_refused_with_the_field_named(tmp_path, text, problem):
    path = state_path(tmp_path)
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(PipelineStateError, match=problem):
        read_state(tmp_path)
