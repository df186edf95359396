// hoomd.adjoint.Recorder: copies the states the adjoint needs out of HOOMD-blue's particle data,
// in tag order, straight into the arrays the Python side hands it (one pass per field, no
// temporary copies), at the timesteps it was asked for. It runs as an updater, before the
// integrator at step t: it sees the state the step starts from.
#pragma once

#include "hoomd/Updater.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <map>
#include <vector>

namespace hoomd
    {
namespace adjoint
    {

class Recorder : public Updater
    {
    public:
    // the particle fields a state is made of (local-snapshot names; image is written as doubles)
    enum Field
        {
        position,
        velocity,
        acceleration,
        orientation,
        angmom,
        net_torque,
        image
        };

    Recorder(std::shared_ptr<SystemDefinition> sysdef, std::shared_ptr<Trigger> trigger);

    //! At timestep t, write field f into columns [column, column + its width) of the (N, W) array
    void addTarget(uint64_t t, int field, pybind11::array_t<double> out, unsigned int column);
    void clear();
    //! Record the targets of timestep t now (the final state, after the run)
    void recordNow(uint64_t t);
    size_t numRecorded() const
        {
        return m_recorded;
        }

    void update(uint64_t timestep) override;

    private:
    struct Target
        {
        int field;
        double* out;
        unsigned int width, column, stride; // stride: the target's row length
        };
    std::map<uint64_t, std::vector<Target>> m_targets;
    std::vector<pybind11::array_t<double>> m_keep; // the arrays written into stay alive
    size_t m_recorded = 0;
    void write(const std::vector<Target>& targets);
    };

namespace detail
    {
void export_Recorder(pybind11::module& m);
    }

    } // namespace adjoint
    } // namespace hoomd
