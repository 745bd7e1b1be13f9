# Types for the compiled build of instances.py (Cython pure-Python mode: the .py stays the source and
# runs as is without Cython). Attributes are public so Python code (tests, the engine when it runs
# uncompiled) sees the same objects either way. Only what is bit-for-bit Python arithmetic is typed:
# doubles and C longs for +, -, *, / and comparisons; no // or % on C doubles (C's floor(a / b) can
# differ from Python's float floor division), so EnergyBins.add stays untyped.
import cython

cdef extern from *:
    """
    /* The hash of the sources this module was compiled from (setup.py defines it); murakkab.sim._core
       reads it from the built file to detect a stale build. */
    #ifndef MURAKKAB_SIM_SOURCE
    #define MURAKKAB_SIM_SOURCE "unknown"
    #endif
    #ifndef MURAKKAB_SIM_MARK_INSTANCES
    #define MURAKKAB_SIM_MARK_INSTANCES
    __attribute__((used)) static const char murakkab_sim_mark_instances[] =
        "murakkab-sim-source:" MURAKKAB_SIM_SOURCE ";";
    #endif
    """


@cython.freelist(1024)   # calls are created and freed by the hundred thousand
cdef class Call:
    cdef public object req, step, inst
    cdef public double inp, service_s, t_submit, a_e, a_t, gpu_j, inst_s
    cdef public long out


cdef class EnergyBins:
    cdef public double width, start, end
    cdef public list j
    cdef public Py_ssize_t cur


cdef class Instance:
    cdef public object id, pool, release_t, queue, intervals
    cdef public long slots, busy, load, version
    cdef public double alloc_t, ready_at, t_last, energy_j, idle_j, idle_s
    cdef public bint draining, released, dirty
    cdef public EnergyBins bins

    @cython.locals(e=double, bins=EnergyBins)
    cdef double _charge(self, double t0, double now, double dt, double power)
    cpdef advance(self, double now)


cdef class ModelInstance(Instance):
    cdef public double ttft, pw, V, pre_w, Ad_e, Ad_t, Ap_e, Ap_t
    cdef public tuple tpot, power, wdec
    cdef public list marks
    cdef public long n_dec, seq
    cdef public object pre

    @cython.locals(t0=double, dt=double, busy=long, p=double, e=double, nd=long, w=double, rd=double, pw=double,
                   rp=double, r=double, k=double)
    cpdef advance(self, double now)


cdef class ToolInstance(Instance):
    cdef public double p_idle, p_busy, A_e, A_t
    cdef public object svc

    @cython.locals(t0=double, dt=double, b=long, p=double, e=double)
    cpdef advance(self, double now)
