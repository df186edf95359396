"""update.BoxResize (and Box.volume/scale): HOOMD-blue 4.8.2's box interpolation, scaling and
wrapping (where HOOMD-blue is importable), in the run loop's order, and the adjoint's refusal."""

import warnings

import numpy as np
import pytest

import hoomd_adjoint as ha
from conftest import sim_from_frame, two_type_gas


def frame_for(dim, seed=6, N=80):
    rng = np.random.default_rng(seed)
    return two_type_gas(rng, N, [13, 12, 0, 0.2, 0, 0] if dim == 2 else [8, 8.5, 9, 0.1, 0.05, -0.1])


def build(lib, frame, filt, deprecated):
    sim = sim_from_frame(lib, frame, 9)
    lj = lib.md.pair.LJ(nlist=lib.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[(("A", "B"), ("A", "B"))] = dict(epsilon=1.0, sigma=1.0)
    method = lib.md.methods.Langevin(filter=lib.filter.All(), kT=1.0)
    sim.operations.integrator = lib.md.Integrator(dt=0.004, methods=[method], forces=[lj])
    initial = sim.state.box
    final = lib.Box.from_box(initial)
    final.volume = initial.volume * 0.85
    final.xy = initial.xy - 0.1
    ramp = lib.variant.Ramp(A=0, B=1, t_start=sim.timestep + 20, t_ramp=200)
    f = filt(lib.filter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if deprecated:
            resize = lib.update.BoxResize(
                trigger=lib.trigger.Periodic(10), box1=initial, box2=final, variant=ramp, filter=f
            )
        else:
            box = lib.variant.box.Interpolate(initial_box=initial, final_box=final, variant=ramp)
            resize = lib.update.BoxResize(trigger=lib.trigger.Periodic(10), box=box, filter=f)
    sim.operations.updaters.append(resize)
    return sim, final


@pytest.mark.parametrize("deprecated", [True, False])
@pytest.mark.parametrize("filt", ["all", "type"])
@pytest.mark.parametrize("dim", [2, 3])
def test_same_run_as_hoomd(dim, filt, deprecated):
    hoomd = pytest.importorskip("hoomd")
    import hoomd.md  # noqa: F401,F811  (the md submodule)

    frame = frame_for(dim)
    pick = {"all": lambda F: F.All(), "type": lambda F: F.Type(["A"])}[filt]
    out = {}
    for lib in (ha, hoomd):
        sim, final = build(lib, frame, pick, deprecated)
        sim.run(300)
        s = sim.state.get_snapshot()
        out[lib.__name__] = (
            np.asarray(s.particles.position),
            np.asarray(s.particles.image),
            list(sim.state.box.to_matrix().ravel()),
            sim.state.box == final,
        )
    a, b = out["hoomd_adjoint"], out["hoomd"]
    assert a[3] and b[3]  # the ramp ended at the final box
    np.testing.assert_array_equal(a[2], b[2])  # the same box, bit for bit
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(a[1][:, :dim], b[1][:, :dim])


def test_box_volume_and_scale_as_hoomd():
    hoomd = pytest.importorskip("hoomd")
    for L in ([10.0, 11.0, 12.0, 0.1, 0.2, 0.3], [10.0, 11.0, 0, 0.4, 0, 0]):
        a, b = ha.Box.from_box(L), hoomd.Box.from_box(L)
        a.volume = b.volume = 777.7
        assert a.to_list() == [float(x) for x in b.to_matrix()[[0, 1, 2], [0, 1, 2]]] + [b.xy, b.xz, b.yz]
        a.scale((1.5, 0.5, 2.0))
        b.scale((1.5, 0.5, 2.0))
        assert [a.Lx, a.Ly, a.Lz] == list(b.L)


def test_updaters_and_the_adjoint():
    sim, _ = build(ha, frame_for(3), lambda F: F.All(), False)
    with pytest.raises(ValueError, match=r"sim.operations.updaters holds \['BoxResize'\]"):
        ha.adjoint.gradient(sim, 5, lambda f: (0.0, np.zeros_like(f.positions)), ["positions"])
    assert sim.timestep == 0
    sim.run(40)  # the forward run resizes (the ramp started at step 20)
    assert sim.state.box.Lx < 8.0
    with pytest.raises(ValueError, match="give box, or \\(deprecated\\) box1, box2 and variant"):
        ha.update.BoxResize(trigger=10)
    with pytest.raises(TypeError, match="sim.operations.updaters holds 5"):
        sim.operations.updaters.append(5)
        sim.run(1)


def test_a_box_of_the_other_dimension_is_refused_before_the_run():
    sim, _ = build(ha, frame_for(2), lambda F: F.All(), False)
    sim.operations.updaters[0].box.final_box = ha.Box(10, 10, 10)
    with pytest.raises(
        ValueError, match=r"BoxResize: the box \[10.0, 10.0, 10.0, 0.0, 0.0, 0.0\] is 3D, the simulation 2D"
    ):
        sim.run(50)
    assert sim.timestep == 0
