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
        throw std::invalid_argument("Recorder: a target must be a C-contiguous float64 array of shape (N = "
                                    + std::to_string(m_pdata->getNGlobal()) + ", >= "
                                    + std::to_string(column + width) + ")");
    m_targets[t].push_back(Target {field, out.mutable_data(), width, column, (unsigned int)out.shape(1)});
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
    for (const Target& target : it->second)
        write(target);
    ++m_recorded;
    }

// one pass over the local particles, writing row tag[i] of the target
template<class Get> static void scatter(unsigned int N, const unsigned int* tag, double* out, unsigned int stride, unsigned int width, Get get)
    {
    for (unsigned int i = 0; i < N; ++i)
        {
        double* row = out + size_t(tag[i]) * stride;
        for (unsigned int c = 0; c < width; ++c)
            row[c] = get(i, c);
        }
    }

void Recorder::write(const Target& target)
    {
    const unsigned int N = m_pdata->getN();
    ArrayHandle<unsigned int> h_tag(m_pdata->getTags(), access_location::host, access_mode::read);
    const unsigned int* tag = h_tag.data;
    double* out = target.out + target.column;
    const unsigned int stride = target.stride;
    auto comp4 = [](const Scalar4& v, unsigned int c) { return double(c == 0 ? v.x : c == 1 ? v.y : c == 2 ? v.z : v.w); };
    auto comp3 = [](const Scalar3& v, unsigned int c) { return double(c == 0 ? v.x : c == 1 ? v.y : v.z); };
    switch (target.field)
        {
    case position:
        {
        ArrayHandle<Scalar4> h(m_pdata->getPositions(), access_location::host, access_mode::read);
        scatter(N, tag, out, stride, 3, [&](unsigned int i, unsigned int c) { return comp4(h.data[i], c); });
        break;
        }
    case velocity:
        {
        ArrayHandle<Scalar4> h(m_pdata->getVelocities(), access_location::host, access_mode::read);
        scatter(N, tag, out, stride, 3, [&](unsigned int i, unsigned int c) { return comp4(h.data[i], c); });
        break;
        }
    case acceleration:
        {
        ArrayHandle<Scalar3> h(m_pdata->getAccelerations(), access_location::host, access_mode::read);
        scatter(N, tag, out, stride, 3, [&](unsigned int i, unsigned int c) { return comp3(h.data[i], c); });
        break;
        }
    case orientation:
        {
        ArrayHandle<Scalar4> h(m_pdata->getOrientationArray(), access_location::host, access_mode::read);
        scatter(N, tag, out, stride, 4, [&](unsigned int i, unsigned int c) { return comp4(h.data[i], c); });
        break;
        }
    case angmom:
        {
        ArrayHandle<Scalar4> h(m_pdata->getAngularMomentumArray(), access_location::host, access_mode::read);
        scatter(N, tag, out, stride, 4, [&](unsigned int i, unsigned int c) { return comp4(h.data[i], c); });
        break;
        }
    case net_torque:
        {
        ArrayHandle<Scalar4> h(m_pdata->getNetTorqueArray(), access_location::host, access_mode::read);
        scatter(N, tag, out, stride, 3, [&](unsigned int i, unsigned int c) { return comp4(h.data[i], c); });
        break;
        }
    case image:
        {
        ArrayHandle<int3> h(m_pdata->getImages(), access_location::host, access_mode::read);
        scatter(N, tag, out, stride, 3, [&](unsigned int i, unsigned int c)
                { return double(c == 0 ? h.data[i].x : c == 1 ? h.data[i].y : h.data[i].z); });
        break;
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
