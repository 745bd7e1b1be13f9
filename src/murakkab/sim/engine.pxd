# Types for the compiled build of engine.py (Cython pure-Python mode; see instances.pxd and
# docs/simulator.md). The .py is the source and runs as is; these declarations only turn attribute
# reads, the per-event branches and the hot method calls into C. Floats keep Python's arithmetic
# (C doubles, no // or %); counters are C longs; everything else stays a Python object.
import cython
from murakkab.sim.instances cimport Call, Instance, ModelInstance, ToolInstance

cdef extern from *:
    """
    #ifndef MURAKKAB_SIM_SOURCE
    #define MURAKKAB_SIM_SOURCE "unknown"
    #endif
    #ifndef MURAKKAB_SIM_MARK_ENGINE
    #define MURAKKAB_SIM_MARK_ENGINE
    __attribute__((used)) static const char murakkab_sim_mark_engine[] =
        "murakkab-sim-source:" MURAKKAB_SIM_SOURCE ";";
    #endif
    """

cdef long _PREFILL, _DECODE, _TOOL, _OTHER
cdef double _EPS


@cython.locals(n=Py_ssize_t, j=Py_ssize_t)
cdef object _pick(list routable, list loads)


cdef class _PoolRT:
    cdef public object plan, id, kind, model, pending, hw, wdec
    cdef public list instances, routable
    cdef public long slots, units, n_made
    cdef public double price, node_w


cdef class _Step:
    cdef public Py_ssize_t idx
    cdef public object task, kind, tokens, rr
    cdef public bint skipped
    cdef public long n_seq, n_par, n_pred, out_fixed, n_done, tok_out
    cdef public double inp, mu, sigma, lat_s, gpu_j, node_j, cost, tok_in
    cdef public list pools, services, succ

    cpdef list sums(self)


cdef class _Route:
    cdef public long idx
    cdef public object route, workflow, tier_key, latency_bound_s, vrr, vk
    cdef public list steps, sources
    cdef public bint accuracy_met


@cython.freelist(256)
cdef class _Req:
    cdef public long id, left, tok_out
    cdef public _Route route
    cdef public double t0, gpu_j, node_j, cost, tok_in
    cdef public list wait, state
    cdef public object vk


cdef class Simulator:
    cdef public object plan, cfg, horizon, progress, arrivals, resolver, reopt, _count, tok_rng, _normals
    cdef public object autoscaler
    cdef public double t
    cdef public list _heap, _dirty, _zbuf, all_instances, records, compiled
    cdef public object decisions, calls
    cdef public dict pools, routes, route_defs
    cdef public Py_ssize_t _zi
    cdef public long in_flight, _req_id
    cdef public bint _gc_paused

    cdef _submit(self, inst, Call call)
    cdef _start(self, inst, Call call)
    cdef _decode(self, ModelInstance inst, Call call)
    cdef _reschedule(self, ModelInstance inst)
    @cython.locals(heap=list, now=double, inst=ModelInstance, t=double)
    cdef _flush(self)
    @cython.locals(q=object)
    cdef _free(self, inst, long n)
    @cython.locals(route=_Route, req=_Req, s=_Step)
    cdef _arrive(self, workflow, tier_key)
    cdef _start_step(self, _Req req, _Step s)
    @cython.locals(st=list, prt=_PoolRT, n_par=long, now=double, routable=list, heap=list, n=Py_ssize_t,
                   inp=double, mu=double, sigma=double, dirty=list, zbuf=list, zi=Py_ssize_t, out=long, call=Call,
                   inst=ModelInstance, tinst=ToolInstance, j=Py_ssize_t, ttft=double, q=long, service=double)
    cdef _round(self, _Req req, _Step s)
    @cython.locals(req=_Req, s=_Step, prt=_PoolRT, inst_s=double, gpu_j=double, inp=double, out=long,
                   node_j=double, cost=double, st=list)
    cdef _call_done(self, Call call)
    @cython.locals(nxt=_Step)
    cdef _step_done(self, _Req req, _Step s)
    @cython.locals(route=_Route, lat=double)
    cdef _finish(self, _Req req)
    @cython.locals(heap=list, n_arr=Py_ssize_t, ai=Py_ssize_t, inf=double, dirty=list, eps=double, ta=double,
                   t=double, seq=long, kind=long, call=Call, inst=ModelInstance, tinst=ToolInstance, inp=double,
                   marks=list, V=double, limit=double, Ad_e=double, Ad_t=double, done=list, c=Call, nd=long,
                   busy=long, slots=long, sq=long, node_w=double, price=double, req=_Req, s=_Step,
                   inst_s=double, gpu_j=double, out=long, node_j=double, cost=double, st=list,
                   tn=double, prt=_PoolRT, inst_records=list)
    cdef _run(self)
