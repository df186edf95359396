"""The doubly nudged elastic band on the Mueller-Brown surface: the climbing image ends on the
known saddles, the band's energies rise from the start to the saddle, and bad input is refused."""
import numpy as np
import pytest

from hoomd_adjoint.neb import neb

from test_cluster_model import muller_brown

A, B, C = (-0.558224, 1.441726), (-0.050011, 0.466694), (0.623499, 0.028038)
FIRE = dict(dt=1e-4, dt_max=1e-3, max_step=0.01)


@pytest.mark.parametrize("start, end, saddle, energy", [
    (A, B, (-0.822002, 0.624313), -40.66484),
    (B, C, (0.212487, 0.292988), -72.24894),
])
def test_climbing_image_finds_the_muller_brown_saddles(start, end, saddle, energy):
    band = neb(muller_brown, start, end, images=20, k=100.0, ftol=1e-4, **FIRE)
    assert np.allclose(band.transition_state, saddle, atol=2e-6)
    assert band.energies[band.ts] == pytest.approx(energy, abs=1e-4)
    assert np.abs(muller_brown(band.transition_state)[1]).max() < 1e-4
    assert band.barrier == pytest.approx(energy - muller_brown(start)[0], abs=1e-4)
    s = band.s
    assert s[0] == 0 and np.all(np.diff(s) > 0) and len(s) == 22
    # the images are spread along the path: no two closer than a fifth of the mean spacing
    assert np.diff(s).min() > 0.2 * s[-1] / 21


def test_bad_input():
    with pytest.raises(ValueError, match="differ in size"):
        neb(muller_brown, A, (0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="images"):
        neb(muller_brown, A, B, images=0)
