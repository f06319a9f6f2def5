"""Every op of the registry, trained by a captured step, matches the eager step, or is refused.

Each op's inputs become parameters; the step is ``zero_grad``, ``out = op(*params)``, a
weighted sum of ``out`` as the loss, ``backward``, an SGD step. Four calls captured (two
recordings, two replays) must give the eager losses and parameters exactly, or the capture
must refuse with its reason (an op helper that makes its constants in Python each call).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import optim
from minigrad.replay import CaptureError
from tests.op_inputs import op_arrays
from tests.op_registry import ALL

STEPS = 4
REFUSALS = ("made outside any op", "took a different path")
OUTCOMES: dict[str, str] = {}


def _train(spec, arrays: list[np.ndarray], captured: bool):  # noqa: ANN001
    params = [mg.tensor(np.array(a, order="C"), requires_grad=True) for a in arrays]
    opt = optim.SGD(params, lr=1e-3)
    probe = spec.fn(*[p.detach() for p in params])
    weight = mg.tensor(np.random.default_rng(1).standard_normal(probe.shape))

    def step():
        opt.zero_grad()
        loss = (spec.fn(*params) * weight).sum()
        loss.backward()
        opt.step()
        return loss

    run = mg.capture(step) if captured else step
    losses = [run().item() for _ in range(STEPS)]
    return losses, [p.data.copy() for p in params], run


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("spec", ALL, ids=lambda s: s.name)
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_captured_training_of_each_op_equals_eager(spec, data):  # noqa: ANN001
    arrays = data.draw(op_arrays(spec))
    if not any(a.size for a in arrays) or any(a.dtype.kind != "f" for a in arrays):
        return
    try:
        losses, params, run = _train(spec, arrays, captured=True)
    except CaptureError as err:
        assert any(reason in str(err) for reason in REFUSALS), str(err)
        OUTCOMES.setdefault(spec.name, "refused")
        return
    eager_losses, eager_params, _ = _train(spec, arrays, captured=False)
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-12, atol=0)
    for p, q in zip(params, eager_params):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=0)
    assert run.stats["replays"] == STEPS - 2
    OUTCOMES[spec.name] = "replayed"


def test_most_ops_replay():
    """Runs after the parametrized test in this module (pytest keeps file order within a worker)."""
    if len(OUTCOMES) < len(ALL) // 2:
        pytest.skip("the per-op tests ran in another worker")
    replayed = sum(1 for v in OUTCOMES.values() if v == "replayed")
    assert replayed >= 0.8 * len(OUTCOMES), sorted(k for k, v in OUTCOMES.items() if v != "replayed")
