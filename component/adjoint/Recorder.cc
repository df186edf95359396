#include "Recorder.h"

#include <stdexcept>
#include <string>

namespace hoomd
    {
namespace adjoint
    {

static unsigned int field_width(int field)
    {
    switch (field)
        {
    case Recorder::orientation:
    case Recorder::angmom:
        return 4;
    case Recorder::position:
    case Recorder::velocity:
    case Recorder::acceleration:
    case Recorder::net_torque:
    case Recorder::image:
        return 3;
        }
    throw std::invalid_argument("Recorder: unknown field " + std::to_string(field));
    }

Recorder::Recorder(std::shared_ptr<SystemDefinition> sysdef, std::shared_ptr<Trigger> trigger)
    : Updater(sysdef, trigger)
    {
    }

void Recorder::addTarget(uint64_t t, int field, pybind11::array_t<double> out, unsigned int column)
    {
    const unsigned int width = field_width(field);
    if (!(out.flags() & pybind11::array::c_style) || out.ndim() != 2
        || size_t(out.shape(0)) != m_pdata->getNGlobal() || size_t(out.shape(1)) < column + width)
        throw std::invalid_argument(
            "Recorder: a target must be a C-contiguous float64 array of shape (N = "
            + std::to_string(m_pdata->getNGlobal()) + ", >= " + std::to_string(column + width)
            + ")");
    m_targets[t].push_back(
        Target {field, out.mutable_data(), width, column, (unsigned int)out.shape(1)});
    m_keep.push_back(out);
    }

void Recorder::clear()
    {
    m_targets.clear();
    m_keep.clear();
    }

void Recorder::update(uint64_t timestep)
    {
    Updater::update(timestep);
    recordNow(timestep);
    }

void Recorder::recordNow(uint64_t t)
    {
    auto it = m_targets.find(t);
    if (it == m_targets.end())
        return;
    write(it->second);
    ++m_recorded;
    }

// one pass in tag order: row t of the target gets the components of particle rtag[t]
// (sequential writes, gathered reads: the faster way round)
template<unsigned int W, class T>
static void
scatter(unsigned int N, const unsigned int* rtag, const T* in, double* out, unsigned int stride)
    {
    for (unsigned int t = 0; t < N; ++t)
        {
        const auto* v = reinterpret_cast<const decltype(in->x)*>(in + rtag[t]);
        double* row = out + size_t(t) * stride;
        for (unsigned int c = 0; c < W; ++c)
            row[c] = double(v[c]);
        }
    }

void Recorder::write(const std::vector<Target>& targets)
    {
    // one rank holds every particle (the bridge refuses domain decomposition): tags are 0..N-1
    const unsigned int N = m_pdata->getNGlobal();
    ArrayHandle<unsigned int> h_tag(m_pdata->getRTags(), access_location::host, access_mode::read);
    for (const Target& target : targets)
        {
        double* out = target.out + target.column;
        const unsigned int s = target.stride;
        switch (target.field)
            {
        case position:
            {
            ArrayHandle<Scalar4> h(m_pdata->getPositions(),
                                   access_location::host,
                                   access_mode::read);
            scatter<3>(N, h_tag.data, h.data, out, s);
            break;
            }
        case velocity:
            {
            ArrayHandle<Scalar4> h(m_pdata->getVelocities(),
                                   access_location::host,
                                   access_mode::read);
            scatter<3>(N, h_tag.data, h.data, out, s);
            break;
            }
        case acceleration:
            {
            ArrayHandle<Scalar3> h(m_pdata->getAccelerations(),
                                   access_location::host,
                                   access_mode::read);
            scatter<3>(N, h_tag.data, h.data, out, s);
            break;
            }
        case orientation:
            {
            ArrayHandle<Scalar4> h(m_pdata->getOrientationArray(),
                                   access_location::host,
                                   access_mode::read);
            scatter<4>(N, h_tag.data, h.data, out, s);
            break;
            }
        case angmom:
            {
            ArrayHandle<Scalar4> h(m_pdata->getAngularMomentumArray(),
                                   access_location::host,
                                   access_mode::read);
            scatter<4>(N, h_tag.data, h.data, out, s);
            break;
            }
        case net_torque:
            {
            ArrayHandle<Scalar4> h(m_pdata->getNetTorqueArray(),
                                   access_location::host,
                                   access_mode::read);
            scatter<3>(N, h_tag.data, h.data, out, s);
            break;
            }
        case image:
            {
            ArrayHandle<int3> h(m_pdata->getImages(), access_location::host, access_mode::read);
            scatter<3>(N, h_tag.data, h.data, out, s);
            break;
            }
            }
        }
    }

namespace detail
    {
void export_Recorder(pybind11::module& m)
    {
    pybind11::class_<Recorder, Updater, std::shared_ptr<Recorder>>(m, "Recorder")
        .def(pybind11::init<std::shared_ptr<SystemDefinition>, std::shared_ptr<Trigger>>())
        .def("addTarget", &Recorder::addTarget)
        .def("clear", &Recorder::clear)
        .def("recordNow", &Recorder::recordNow)
        .def_property_readonly("num_recorded", &Recorder::numRecorded);
    }
    } // namespace detail

    } // namespace adjoint
    } // namespace hoomd
