"""``Simulator.compile``: the compiled step predicts what the eager one does, for every joint type (the zoo robot
has free, ball, hinge and slide joints), and gradients still flow through it."""

from __future__ import annotations

import pytest
import torch
from model_helpers import TINY, random_state

from mosim.loading import Simulator
from mosim.models import build_model


@pytest.mark.slow  # compiling takes about a minute of CPU
def test_a_compiled_simulator_predicts_like_the_eager_one_and_stays_differentiable(zoo_spec):
    torch.manual_seed(0)
    eager = Simulator(build_model(zoo_spec, TINY).float())
    compiled = Simulator(build_model(zoo_spec, TINY).float())
    compiled.model.load_state_dict(eager.model.state_dict())
    compiled.compile()
    q, v, _ = random_state(zoo_spec, 16, dtype=torch.float32)
    actions = torch.rand(16, 5, zoo_spec.nu) * 2 - 1
    q_e, v_e = eager.rollout(q.numpy(), v.numpy(), actions.numpy())
    q_c, v_c = compiled.rollout(q.numpy(), v.numpy(), actions.numpy())
    torch.testing.assert_close(torch.as_tensor(q_c), torch.as_tensor(q_e), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(torch.as_tensor(v_c), torch.as_tensor(v_e), rtol=1e-4, atol=1e-5)
    v0 = v.clone().requires_grad_(True)
    _, v1 = compiled.step(q, v0, actions[:, 0])
    v1.sum().backward()
    assert v0.grad is not None and torch.isfinite(v0.grad).all()


@pytest.mark.slow  # compiling takes about a minute of CPU
def test_a_compiled_step_is_one_graph_compiled_once():
    """Go2 with its contact features and heading frame: ``fullgraph=True`` fails on any graph break, and after the
    first step nothing compiles again (not at the second step, not for a rollout of another length). Both once
    happened: ``math.isfinite`` on ``dt`` broke the graph, and the contact constants' cache, filled at the first
    call, made the second compile again. The compiled contact features (products and sums instead of ``@``)
    predict what the eager ones do."""
    import copy
    from dataclasses import replace

    from mosim.systems import make_system, with_geometry

    spec = with_geometry(make_system("go2").spec())
    config = replace(TINY, contact_features=True, heading_frame=True)
    torch._dynamo.reset()
    torch.manual_seed(0)
    eager = Simulator(build_model(spec, config).float())
    sim = Simulator(copy.deepcopy(eager.model)).compile(fullgraph=True)
    q, v, _ = random_state(spec, 8, dtype=torch.float32)
    actions = torch.rand(8, 4, spec.nu) * 2 - 1
    with torch.no_grad():
        sim.rollout(q, v, actions[:, :1])
        with torch._dynamo.config.patch(error_on_recompile=True):
            q_c, v_c = sim.rollout(q, v, actions)
            sim.rollout(q, v, actions[:, :3])
        q_e, v_e = eager.rollout(q, v, actions)
    torch.testing.assert_close(q_c, q_e, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(v_c, v_e, rtol=1e-4, atol=1e-5)


def test_compile_options_start_from_mosims_inductor_settings_and_let_the_caller_override():
    from mosim.integrators import INDUCTOR_OPTIONS, compile_options

    assert compile_options({}) == {"options": INDUCTOR_OPTIONS}
    assert compile_options({"dynamic": True})["dynamic"] is True
    mine = compile_options({"options": {"cpp.enable_loop_tail_vec": True, "freezing": True}})["options"]
    assert mine == {**INDUCTOR_OPTIONS, "cpp.enable_loop_tail_vec": True, "freezing": True}
    # torch.compile takes a mode or options, not both: a named mode goes through as given
    assert compile_options({"mode": "max-autotune"}) == {"mode": "max-autotune"}
    assert compile_options({"mode": None})["options"] == INDUCTOR_OPTIONS


@pytest.mark.slow  # compiling takes about a minute of CPU
def test_a_compiled_contact_solve_predicts_like_the_eager_one(tmp_path):
    """Hopper with its limits, floor contacts and self contacts solved and M computed, compiled by default
    (``"auto"``, a model that solves its contacts): wide batches through a graph of its forces, the solve eager,
    predict what the eager step does; and batches of up to ``SMALL_BATCH`` through one graph of the whole step,
    every candidate's rows and every Newton iteration, what the eager step does with the rows of the touching
    candidates only and its iterations stopped early (on states of random-action episodes, which touch the floor and
    themselves). ``part="step"`` makes that whole step's graph alone, for every batch."""
    import copy
    from dataclasses import replace

    import mosim
    from mosim.models import model_inputs

    cfg = mosim.CollectConfig(system="hopper-hop", out=str(tmp_path / "hopper.h5"), episodes=4, steps=200,
                              workers=1, seed=1)
    ds = mosim.load_dataset(mosim.collect(cfg, progress=False, overwrite=True))
    config = replace(TINY, n_correctors=0, contact_constraints=True, known_inertia=True, substeps=4)
    spec, stats = model_inputs(ds, config)
    assert spec.self_contacts is not None and len(spec.self_contacts) == 9
    torch._dynamo.reset()
    torch.manual_seed(0)
    eager = Simulator(build_model(spec, config, stats).float())
    whole = Simulator(copy.deepcopy(eager.model)).compile("step", fullgraph=True)  # compiles at its first call
    assert "_step" in vars(whole.model) and "_smooth_acceleration" not in vars(whole.model)
    sim = Simulator(copy.deepcopy(eager.model)).compile(fullgraph=True)
    assert "_step" in vars(sim.model)  # the whole step's graph for small batches, the forces' for wide ones
    assert "_smooth_acceleration" in vars(sim.model)
    starts = torch.arange(24) * 7 + 20
    episode = torch.arange(24) % 4
    q = torch.tensor(ds.qpos, dtype=torch.float32)[episode, starts]
    v = torch.tensor(ds.qvel, dtype=torch.float32)[episode, starts]
    actions = torch.stack([torch.tensor(ds.action[e, s:s + 3], dtype=torch.float32) for e, s in zip(episode, starts)])
    with torch.no_grad():
        q_c, v_c = sim.rollout(q, v, actions)
        q_e, v_e = eager.rollout(q, v, actions)
    torch.testing.assert_close(q_c, q_e, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(v_c, v_e, rtol=1e-4, atol=1e-4)
    from mosim.integrators import SMALL_BATCH  # a batch of up to SMALL_BATCH states: through the whole step's graph

    with torch.no_grad():
        q_c, v_c = sim.rollout(q[:SMALL_BATCH], v[:SMALL_BATCH], actions[:SMALL_BATCH])
    torch.testing.assert_close(q_c, q_e[:SMALL_BATCH], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(v_c, v_e[:SMALL_BATCH], rtol=1e-4, atol=1e-4)


@pytest.mark.slow  # compiling its two graphs takes about two minutes of CPU
def test_go2s_compiled_forces_predict_like_the_eager_ones(tmp_path, monkeypatch):
    """The Go2 at its model file's physics (its feet on elliptic cones, M and the bias forces computed), compiled by
    default: its forces one graph of fixed shapes, its cones' solve eager. The rollout is the eager one's, and a
    second rollout compiles nothing again. A batch of up to ``SMALL_BATCH`` states steps through the whole step's
    graph, its cones' line search over fixed sizes and a fixed number of Newton iterations: the same rollout."""
    import copy
    from dataclasses import replace

    import mosim
    from mosim.models import model_inputs
    from mosim.presets import get_preset

    cfg = mosim.CollectConfig(system="go2", out=str(tmp_path / "go2.h5"), episodes=2, steps=60, workers=1, seed=3)
    ds = mosim.load_dataset(mosim.collect(cfg, progress=False, overwrite=True))
    config = replace(get_preset("go2").model, inertia_width=16, force_width=16, corrector_width=16, known_bias=True,
                     known_passive=True, physics_start=True)
    spec, stats = model_inputs(ds, config)
    torch._dynamo.reset()
    torch.manual_seed(0)
    eager = Simulator(build_model(spec, config, stats).float())
    sim = Simulator(copy.deepcopy(eager.model)).compile()
    assert "_smooth_acceleration" in vars(sim.model)
    q = torch.tensor(ds.qpos[:, 10:50:2].reshape(-1, spec.nq), dtype=torch.float32)   # 40 states, most touching
    v = torch.tensor(ds.qvel[:, 10:50:2].reshape(-1, spec.nv), dtype=torch.float32)
    actions = torch.rand(len(q), 3, spec.nu) * 2 - 1
    with torch.no_grad():
        sim.rollout(q, v, actions[:, :1])
        with torch._dynamo.config.patch(error_on_recompile=True):
            q_c, v_c = sim.rollout(q, v, actions)
        q_e, v_e = eager.rollout(q, v, actions)
    torch.testing.assert_close(q_c, q_e, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(v_c, v_e, rtol=1e-3, atol=1e-3)
    from mosim.integrators import SMALL_BATCH
    from mosim.models import cones

    # the whole step's graph unrolls every Newton iteration: fewer than the default's 30 compile in less time, and
    # these states converge within them
    monkeypatch.setattr(cones, "COMPILED_CONE_ITERATIONS", 12)
    small = slice(len(q) - SMALL_BATCH, len(q))  # the last of those states: the whole step's graph
    with torch.no_grad():
        q_c, v_c = sim.rollout(q[small], v[small], actions[small])
    torch.testing.assert_close(q_c, q_e[small], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(v_c, v_e[small], rtol=1e-3, atol=1e-3)


def test_compile_names_its_parts(zoo_spec):
    from mosim.errors import InvalidInputError
    from mosim.integrators import COMPILE_PARTS

    assert COMPILE_PARTS == ("auto", "step", "forces")
    with pytest.raises(InvalidInputError, match="part must be one of"):
        Simulator(build_model(zoo_spec, TINY)).compile("everything")
