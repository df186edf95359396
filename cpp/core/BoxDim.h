// Periodic triclinic box with HOOMD-blue v4.8.2 conventions (hoomd/BoxDim.h).
//
// Lattice vectors a1 = (Lx,0,0), a2 = (xy Ly, Ly, 0), a3 = (xz Lz, yz Lz, Lz); the box is
// centred on the origin and 2D iff Lz == 0. minImage and wrap reproduce HOOMD's CPU branch
// structure so that results agree to the last bit where the arithmetic is the same.
#pragma once
#include <cmath>
#include "HostDevice.h"

namespace ha {

struct Vec3 {
    double x, y, z;
};

struct Int3 {
    int x, y, z;
};

struct BoxDim {
    double Lx = 1, Ly = 1, Lz = 1, xy = 0, xz = 0, yz = 0;
    double lox, loy, loz, hix, hiy, hiz;
    double Linvx, Linvy, Linvz;
    bool is2D = false;

    BoxDim() { setL(1, 1, 1, 0, 0, 0); }
    BoxDim(double Lx_, double Ly_, double Lz_, double xy_, double xz_, double yz_) {
        setL(Lx_, Ly_, Lz_, xy_, xz_, yz_);
    }

    void setL(double Lx_, double Ly_, double Lz_, double xy_, double xz_, double yz_) {
        Lx = Lx_;
        Ly = Ly_;
        Lz = Lz_;
        xy = xy_;
        xz = xz_;
        yz = yz_;
        is2D = (Lz == 0.0);
        hix = Lx / 2.0;
        hiy = Ly / 2.0;
        hiz = Lz / 2.0;
        lox = -hix;
        loy = -hiy;
        loz = -hiz;
        Linvx = 1.0 / Lx;
        Linvy = 1.0 / Ly;
        Linvz = is2D ? 0.0 : 1.0 / Lz;
    }

    // Nearest-plane distances: the thickness of the box along each lattice direction
    // (dist_i = |a_i . n_i| with n_i normal to the other two vectors; a3 = z-hat in 2D).
    HA_HOSTDEVICE Vec3 nearestPlaneDistance() const {
        Vec3 a1 = {Lx, 0, 0}, a2 = {xy * Ly, Ly, 0};
        Vec3 a3 = is2D ? Vec3{0, 0, 1} : Vec3{xz * Lz, yz * Lz, Lz};
        auto cross = [](Vec3 a, Vec3 b) {
            return Vec3{a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
        };
        auto dist = [&](Vec3 a, Vec3 b, Vec3 c) {
            Vec3 n = cross(b, c);
            return std::fabs(a.x * n.x + a.y * n.y + a.z * n.z) / std::sqrt(n.x * n.x + n.y * n.y + n.z * n.z);
        };
        return {dist(a1, a2, a3), dist(a2, a3, a1), is2D ? 0.0 : dist(a3, a1, a2)};
    }

    bool triclinic() const { return xy != 0 || xz != 0 || yz != 0; }

    // HOOMD BoxDim::minImage, CPU variant: z, then y, then x; one image in z. With
    // TRICLINIC = false the tilt terms (all exactly zero then) are skipped: same result, faster.
    template <bool TRICLINIC = true>
    HA_HOSTDEVICE Vec3 minImage(Vec3 w) const {
        if (!is2D) {
            if (w.z >= hiz) {
                w.z -= Lz;
                if (TRICLINIC) {
                    w.y -= Lz * yz;
                    w.x -= Lz * xz;
                }
            } else if (w.z < loz) {
                w.z += Lz;
                if (TRICLINIC) {
                    w.y += Lz * yz;
                    w.x += Lz * xz;
                }
            }
        }
        if (w.y >= hiy) {
            int i = int(w.y * Linvy + 0.5);
            w.y -= i * Ly;
            if (TRICLINIC) w.x -= i * Ly * xy;
        } else if (w.y < loy) {
            int i = int(-w.y * Linvy + 0.5);
            w.y += i * Ly;
            if (TRICLINIC) w.x += i * Ly * xy;
        }
        if (w.x >= hix) {
            int i = int(w.x * Linvx + 0.5);
            w.x -= i * Lx;
        } else if (w.x < lox) {
            int i = int(-w.x * Linvx + 0.5);
            w.x += i * Lx;
        }
        return w;
    }

    // Nearest image of the separation of two wrapped points, without branches. Equal to
    // minImage (bit for bit) except at exact half-box ties, which never occur inside a cutoff
    // (r_cut + buffer < half the box). Rounds to nearest with the 1.5 * 2^52 trick on the host
    // (baseline x86-64 has no rounding instruction) and rint on the device.
    template <bool TRICLINIC = true>
    HA_HOSTDEVICE Vec3 minImageWrapped(Vec3 w) const {
        const double iz = round_nearest(w.z * Linvz);  // Linvz = 0 in 2D: no shift
        w.z -= iz * Lz;
        if (TRICLINIC) {
            w.y -= iz * Lz * yz;
            w.x -= iz * Lz * xz;
        }
        const double iy = round_nearest(w.y * Linvy);
        w.y -= iy * Ly;
        if (TRICLINIC) w.x -= iy * Ly * xy;
        const double ix = round_nearest(w.x * Linvx);
        w.x -= ix * Lx;
        return w;
    }

    HA_HOSTDEVICE static double round_nearest(double x) {
#ifdef __CUDA_ARCH__
        return rint(x);
#else
        const double magic = 6755399441055744.0;  // 1.5 * 2^52
        return (x + magic) - magic;
#endif
    }

    // wrap() for a position p (written to r) and the image stored at img (updated).
    HA_HOSTDEVICE void wrapInto(Vec3 p, double* r, int32_t* img) const {
        Int3 im = {img[0], img[1], img[2]};
        wrap(p, im);
        r[0] = p.x;
        r[1] = p.y;
        r[2] = p.z;
        img[0] = im.x;
        img[1] = im.y;
        img[2] = im.z;
    }

    // HOOMD BoxDim::wrap: at most one image per axis, x then y then z. Unlike v4.8.2 we do not
    // touch image.z in 2D (hoomd-blue#2071: there it grows by one per wrap).
    HA_HOSTDEVICE void wrap(Vec3& w, Int3& img) const {
        double tilt_x = (xz - xy * yz) * w.z + xy * w.y;
        if (w.x >= hix + tilt_x) {
            w.x -= Lx;
            img.x++;
        } else if (w.x < lox + tilt_x) {
            w.x += Lx;
            img.x--;
        }
        double tilt_y = yz * w.z;
        if (w.y >= hiy + tilt_y) {
            w.y -= Ly;
            w.x -= Ly * xy;
            img.y++;
        } else if (w.y < loy + tilt_y) {
            w.y += Ly;
            w.x += Ly * xy;
            img.y--;
        }
        if (!is2D) {
            if (w.z >= hiz) {
                w.z -= Lz;
                w.y -= Lz * yz;
                w.x -= Lz * xz;
                img.z++;
            } else if (w.z < loz) {
                w.z += Lz;
                w.y += Lz * yz;
                w.x += Lz * xz;
                img.z--;
            }
        }
    }

    // The point at fractional coordinates f (HOOMD makeCoordinates).
    HA_HOSTDEVICE Vec3 makeCoordinates(const Vec3& f) const {
        Vec3 v = {lox + f.x * Lx, loy + f.y * Ly, loz + f.z * Lz};
        v.x += xy * v.y + xz * v.z;
        v.y += yz * v.z;
        return v;
    }

    // Fractional coordinates in [0,1) for a wrapped point (HOOMD makeFraction with ghost width 0).
    HA_HOSTDEVICE Vec3 makeFraction(const Vec3& v) const {
        Vec3 d = {v.x - lox, v.y - loy, v.z - loz};
        d.x -= (xz - yz * xy) * v.z + xy * v.y;
        d.y -= yz * v.z;
        return {d.x * Linvx, d.y * Linvy, is2D ? 0.0 : d.z * Linvz};
    }
};

}  // namespace ha
